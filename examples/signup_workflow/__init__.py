"""Signup: a workflow that waits for a click on an e-mailed link, through a durable promise.

``Signup.run`` (the main handler, once per workflow key) creates the account, mails a
confirmation link carrying a secret, and waits on the ``email-confirmed`` promise, racing it
against a one-day timer. ``Signup.click`` (a shared handler) checks the secret and resolves the
promise; ``Signup.status`` reports progress. Run it with ``python -m examples.signup_workflow``.
"""
