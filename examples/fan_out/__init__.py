"""Fan-out / fan-in: count the words of many documents in parallel, then merge the counts.

``WordCount.count`` fans out one ``Worker.count_words`` call per document (each its own
invocation, free to run on any instance of the app) and fans in with ``restate.gather``.
``WordCount.count_here`` does the same with ``ctx.run`` steps inside one invocation: creating a
run starts it, so they overlap (the Go SDK's ``RunAsync`` and its ``parallelizework`` example).
Run it with ``python -m examples.fan_out``.
"""
