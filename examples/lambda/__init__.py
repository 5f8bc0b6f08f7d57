"""Lambda: a Restate app served from AWS Lambda with ``restate.lambda_handler``.

``lambda`` is a Python keyword, so import this package by name: ``importlib.import_module(
"examples.lambda.app")``. On Lambda, ``app.py`` sits at the top of the zip and the handler is
``app.handler`` (see README.md).
"""
