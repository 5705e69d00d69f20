"""Fuzz the command parser and the decision (evaluate) for a time budget with hypothesis and
an independent oracle (tests/fuzz/fuzzlib.py): no exception, no traceback, no allow that the
policy does not grant. Prints progress once a minute and the totals; exit 1 on a violation
(hypothesis prints the shrunk failing example).

    bench/fuzz [--minutes 10]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "plugins"))
sys.path.insert(0, HERE)
import fuzzlib  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    a = ap.parse_args()
    t0 = time.monotonic()
    last = [t0]

    def report(counts):
        now = time.monotonic()
        if now - last[0] >= 60:
            last[0] = now
            print("  %5.0f s: %s" % (now - t0, counts), flush=True)

    print("fuzzing parser + evaluate for %.1f min ..." % a.minutes, flush=True)
    try:
        counts = fuzzlib.run_for(a.minutes * 60.0, examples_per_round=1000, report=report)
    except AssertionError as e:
        print("VIOLATION after %.0f s: %s" % (time.monotonic() - t0, e))
        return 1
    seconds = time.monotonic() - t0
    print("fuzz: %.0f s, %d examples (%.0f/s), %d allowed, %d denied, %d malformed: no exception, no wrong allow"
          % (seconds, counts["examples"], counts["examples"] / seconds, counts["allowed"], counts["denied"],
             counts["malformed"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
