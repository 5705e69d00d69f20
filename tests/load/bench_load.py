"""Load on a provisioned lab host: N concurrent SSH sessions from several users (allowed,
refused and malformed commands, concurrent git pushes to different apps) for S seconds,
then an exact account from the Dokku stand-in's call log and the gate's audit log, and the
figures: decisions/s, p50/p99 latency of teams:whoami through the gate vs a key forced to
/bin/true (same run), plus the same two over an idle ControlMaster connection.

    bench/load [--sessions 50] [--seconds 60] [--lab NAME] [--keep]

Without --lab it boots lab `benchload` (10.200.40.2), converges it with playbooks/site.yml
and the example inventory, and takes it down afterwards (--keep leaves it up). Needs root.
Exit 1 when an invariant fails (see tests/load/loadgen.py).
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kit  # noqa: E402
import loadgen  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--lab", help="an existing lab converged with the example inventory")
    ap.add_argument("--keys", help="the keys it was converged with (examples/make-keys DIR)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--mux", type=int, default=100, help="idle ControlMaster samples (0: skip)")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-load-")
    keys = kit.make_keys(a.keys or os.path.join(work, "keys"))
    owned = a.lab is None
    if owned:
        t0 = time.monotonic()
        lab = kit.fresh_lab("benchload", 40)
        inv = kit.write_inventory(os.path.join(work, "inventory"), [lab])
        r = kit.converge(inv, keys)
        if r.rc != 0:
            print(r)
            return 1
        print("lab %s up and converged in %.1f s" % (lab.name, time.monotonic() - t0))
    else:
        lab = kit.labctl.get(a.lab)
    try:
        loadgen.prepare(lab, keys)
        print("load: %d sessions for %.0f s against %s ..." % (a.sessions, a.seconds, lab.address), flush=True)
        result = loadgen.run(lab, keys, a.sessions, a.seconds)
        acc = loadgen.verify(lab, result)
        width = max(len(k) for k in acc.figures)
        for k, v in acc.figures.items():
            print("  %-*s  %s" % (width, k, v))
        if a.mux:
            mux = loadgen.mux_baseline(lab, keys, a.mux)
            g, t = mux["gate"], mux["true"]
            print("  idle, one ControlMaster connection, n=%d each:" % a.mux)
            # str.ljust(width) is what "%-*s" % (width, label) gives
            print("  %s  %.1f / %.1f" % ("gate teams:whoami ms p50/p99".ljust(width), kit.percentile(g, 50),
                                         kit.percentile(g, 99)))
            print("  %s  %.1f / %.1f" % ("/bin/true key ms p50/p99".ljust(width), kit.percentile(t, 50),
                                         kit.percentile(t, 99)))
            print("  %s  %.1f" % ("gate cost per command ms (p50 diff)".ljust(width),
                                  kit.percentile(g, 50) - kit.percentile(t, 50)))
        if acc.problems:
            print("INVARIANTS FAILED (%d):" % len(acc.problems))
            for p in acc.problems:
                print("  - " + p)
            return 1
        print("invariants: all hold")
        return 0
    finally:
        if owned and not a.keep:
            kit.labctl.down(lab.name)


if __name__ == "__main__":
    sys.exit(main())
