# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throughput of an image upload through the gate, against ``cat`` into ``docker load``.

In the load-image lab (``li0``, index 50, also the lab test's: never run both at once)
converged with the role, one ``docker save`` archive of N MiB (random content, so nothing
compresses or dedups) sits in the lab's /tmp. Interleaved, each
run timed inside the lab with the image removed before it (so every load writes its layer):

- ``cat``:  ``cat archive | docker load`` as root;
- ``gate``: ``cat archive | sudo -n gate --user deploy-bot --key FP`` run as ``ci`` with
  ``SSH_ORIGINAL_COMMAND='git:load-image liweb dokku/liweb:v1'``: the forced command exactly
  as sshd runs it (sudo, the gate's strict parse and canonical stream, the spool accounting, the audit lines, the
  privilege drop, ``docker load`` reading the gate's pipe). The target the gate starts is
  replaced by a two-line ``exec docker load`` for the bench: Dokku deploys the image after
  loading it, and the deploy is no part of the upload (the stand-in's deploy of an unchanged
  image also fails, "No changes detected").

Prints both median throughputs (MiB/s) and the ratio; target: the gate within 20 %
(ratio >= 0.8). Exit 1 when it misses, 2 when Docker is not available (a failure, not a skip).
Usage: bench/upload [--mib N] [--runs N]   (defaults 256, 5)
"""

import os
import shlex
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
sys.path.insert(0, os.path.join(REPO, "tests", "load"))
import kit  # noqa: E402
import labctl  # noqa: E402

LAB, INDEX = "li0", 50  # index 51 belongs to the fleet labs
IMAGE = "dokku/liweb:v1"
ARCHIVE = "/tmp/li-bench.tar"
GATE_CONF = "/etc/dokku-teams/gate.conf"


def timed(lab, pipeline):
    """Seconds the pipeline took inside the lab (clock read in the lab, around it only)."""
    script = ("set -e; docker rmi -f %s >/dev/null 2>&1 || true; sync; a=$(date +%%s%%N); %s >/dev/null; "
              "b=$(date +%%s%%N); echo $((b-a))" % (IMAGE, pipeline))
    out = kit.root(lab, script, timeout=900).stdout.strip().splitlines()[-1]
    return int(out) / 1e9


def main(argv):
    mib, runs = 256, 5
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == "--mib":
            mib = int(args.pop(0))
        elif flag == "--runs":
            runs = int(args.pop(0))
        else:
            sys.exit("usage: bench/upload [--mib N] [--runs N]")
    if os.geteuid() != 0:
        sys.exit("bench/upload needs root (the lab)")
    ok, message = labctl.docker_status()
    if not ok:
        print("FAIL: docker load is not available: %s" % message)
        return 2
    work = tempfile.mkdtemp(prefix="li-bench-")
    keys = kit.make_keys(os.path.join(work, "keys"))
    try:
        lab = kit.fresh_lab(LAB, INDEX)
    except (labctl.LabError, kit.Failed, OSError) as error:
        print("FAIL: lab %s could not be started: %s" % (LAB, error))
        return 1
    try:
        inventory = kit.write_inventory(os.path.join(work, "inv"), [lab])
        teams = kit.example_vars()["dokku_teams_teams"] + [
            {"name": "li-deploy", "owners": ["olivia"], "members": ["deploy-bot"], "commands": ["git:load-image"],
             "apps": ["liweb"]}]
        run = kit.converge(inventory, keys, extra_vars=kit.declared(keys, teams=teams))
        if run.rc != 0:
            print("FAIL: converge: %s" % run)
            return 1
        kit.root(lab, "dokku apps:create liweb >/dev/null 2>&1 || true")
        # Both sides do the same work: the target is docker load alone. Dokku's git:load-image
        # deploys the image after loading it; that deploy is no part of the upload.
        dokku = kit.root(lab, "sed -n 's/^dokku=//p' %s" % GATE_CONF).stdout.strip()
        kit.root(lab, "set -e; mv %s %s.real; printf '#!/bin/sh\\nexec docker load\\n' > %s; chmod 755 %s"
                 % (dokku, dokku, dokku, dokku))
        kit.root(lab, "set -e; d=$(mktemp -d); head -c %d /dev/urandom > $d/blob; tar -C $d -c blob | "
                      "docker import - %s >/dev/null; docker save %s > %s; docker rmi %s >/dev/null; rm -r $d"
                      % (mib * 1024 * 1024, IMAGE, IMAGE, ARCHIVE, IMAGE), timeout=900)
        size = int(kit.root(lab, "stat -c %%s %s" % ARCHIVE).stdout)
        forced = kit.root(lab, "grep -- '--user deploy-bot ' /home/ci/.ssh/authorized_keys | head -n 1").stdout
        command = forced.split('command="', 1)[1].split('"', 1)[0]
        gate = ("cat %s | runuser -u ci -- env SSH_ORIGINAL_COMMAND=%s /bin/sh -c %s"
                % (ARCHIVE, shlex.quote("git:load-image liweb %s" % IMAGE), shlex.quote(command)))
        plain = "cat %s | docker load" % ARCHIVE
        times = {"cat": [], "gate": []}
        timed(lab, gate)  # warm-up: caches, first audit line, the stand-in's imports
        for unused in range(runs):
            times["cat"].append(timed(lab, plain))
            times["gate"].append(timed(lab, gate))
        mb = size / (1024.0 * 1024.0)
        cat_rate = mb / statistics.median(times["cat"])
        gate_rate = mb / statistics.median(times["gate"])
        ratio = gate_rate / cat_rate
        print("archive %.1f MiB, %d runs each, medians" % (mb, runs))
        print("cat into docker load : %7.1f MiB/s  (%s s)" % (cat_rate, " ".join("%.2f" % t for t in times["cat"])))
        print("through the gate     : %7.1f MiB/s  (%s s)" % (gate_rate, " ".join("%.2f" % t for t in times["gate"])))
        print("ratio gate/cat       : %7.2f  (target >= 0.80)" % ratio)
        return 0 if ratio >= 0.8 else 1
    finally:
        kit.root(lab, "docker rmi -f %s >/dev/null 2>&1; rm -f %s" % (IMAGE, ARCHIVE), check=False)
        labctl.down(LAB)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
