"""Check (no pytest) that replay cost per journal entry stays flat as the journal grows.

Exits 1 when replaying 1000 entries costs more than 1.5x per entry what replaying 10 does, through the
engine alone or through the context. Timing-based, so it is a script to run on a quiet machine, not a
unit test::

    uv run python bench/check_replay.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import replay

LIMIT = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = replay.measure_all(quick=args.quick)
    by_size = {int(r["entries"]): r for r in rows}
    small, large = by_size[min(by_size)], by_size[max(by_size)]
    failed = False
    for column, label in (("us_per_entry", "engine"), ("us_per_entry_context", "context")):
        for r in rows:
            print(f"{label:8} {int(r['entries']):5} entries: {r[column]:7.2f} µs/entry")
        ratio = large[column] / small[column]
        ok = ratio <= LIMIT
        failed |= not ok
        print(
            f"{label:8} {int(large['entries'])} vs {int(small['entries'])} entries: {ratio:.2f}x per entry "
            f"(limit {LIMIT}x) {'ok' if ok else 'TOO SLOW'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
