"""A fleet of lab hosts converged by one playbooks/site.yml run: prints the run time for one
fresh host alone and for three fresh hosts together (forks 3), the no-change re-run, and the
run that removes a user from inventory (then checks she lost access on all three).

    bench/fleet [--keep]

Boots fleet1..fleet3 (10.200.51-53.2) and takes them down afterwards. Needs root.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fleet  # noqa: E402
import kit  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-fleet-")
    keys = kit.make_keys(os.path.join(work, "keys"))
    ok = True
    try:
        t0 = time.monotonic()
        labs = fleet.up()
        print("3 labs up: %.1f s" % (time.monotonic() - t0), flush=True)
        r1, s1, _inventory = fleet.converge_fleet(work, labs[:1], keys, tag="one")
        print("converge 1 fresh host:            %5.1f s (rc %d)" % (s1, r1.rc), flush=True)
        labs[0] = kit.fresh_lab(*fleet.NAMES[0])          # fresh again, for a fair 3-host run
        r3, s3, inv = fleet.converge_fleet(work, labs, keys, tag="three")
        print("converge 3 fresh hosts (forks 3): %5.1f s (rc %d)" % (s3, r3.rc), flush=True)
        r3b, s3b, _inventory = fleet.converge_fleet(work, labs, keys, tag="three")
        print("re-run on 3 hosts, no change:     %5.1f s (rc %d)" % (s3b, r3b.rc), flush=True)
        for lab in labs:
            kit.root(lab, "dokku apps:exists web >/dev/null 2>&1 || dokku apps:create web >/dev/null")
        before = fleet.access(labs, keys, "alice")
        rr, sr, _inventory = fleet.converge_fleet(work, labs, keys, fleet.without(keys, "alice"), tag="three")
        after = fleet.access(labs, keys, "alice")
        print("remove alice on 3 hosts:          %5.1f s (rc %d)" % (sr, rr.rc))
        print("alice before: %s" % {k: v[0] for k, v in before.items()})
        print("alice after:  %s" % {k: v[0] for k, v in after.items()})
        ok = all(r.rc == 0 for r in (r1, r3, r3b, rr)) and all(v[0] == 0 for v in before.values()) and \
            all(fleet.lost_access(v) for v in after.values())
        docs = fleet.policies(labs)
        same = all(doc == docs[labs[0].name] for doc in docs.values())
        print("same policy on all three: %s" % same)
        ok = ok and same
        for r in (r1, r3, r3b, rr):
            if r.rc != 0:
                print(r)
    finally:
        if not a.keep:
            fleet.down()
    print("fleet: %s" % ("all hold" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
