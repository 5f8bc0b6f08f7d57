"""``python -m examples.fan_out``: count the words of eight documents, both ways."""

from __future__ import annotations

import sys
import time

from restate_ingress import Client

from examples._runner import check, main

from .app import WORK_SECONDS, app, count, count_here, in_flight

DOCUMENTS = [
    "Restate makes durable execution simple",
    "durable execution survives crashes",
    "fan out the work",
    "fan in the results",
    "every call is journaled",
    "every step is durable",
    "simple and durable",
    "the end",
]


def scenario(client: Client) -> None:
    for handler in (count, count_here):
        in_flight.peak = 0
        started = time.monotonic()
        counts = client.call(handler, DOCUMENTS)
        took = time.monotonic() - started
        top = dict(list(counts.items())[:3])
        check(
            f"WordCount {handler.__name__}(8 documents) top 3", top, {"durable": 4, "the": 3, "execution": 2}
        )
        print(
            f"    {took:.2f}s for {len(DOCUMENTS)} x {WORK_SECONDS}s of work; "
            f"up to {in_flight.peak} documents counted at once",
            flush=True,
        )
        check(f"WordCount {handler.__name__} ran in parallel", in_flight.peak > 1, True)


if __name__ == "__main__":
    sys.exit(main(app, scenario, name="fan_out"))
