"""``python -m examples.greeter``: greet Ann twice and Bob once; ``... serve`` only serves the app."""

from __future__ import annotations

import sys

from restate_ingress import Client

from examples._runner import check, main

from .app import app, greet, greetings


def scenario(client: Client) -> None:
    check('Greeter greet("Ann")', client.call(greet, "Ann"), "Hello Ann!")
    check('Greeter greet("Ann")', client.call(greet, "Ann"), "Hello again Ann! (greeting #2)")
    # The same, by name, as curl would: POST /Greeter/greet with the JSON body "Bob".
    check('Greeter greet("Bob")', client.service("Greeter").call("greet", "Bob"), "Hello Bob!")
    check("Counter/Ann greetings()", client.object("Counter", "Ann").call(greetings), 2)


if __name__ == "__main__":
    sys.exit(main(app, scenario, name="greeter"))
