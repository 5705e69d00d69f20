# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of the play users run: ``playbooks/site.yml`` against a fresh lab host, declaring
1,000 users and 200 teams, compared with a play of one ping task measured in the same run.

Sequence: a fresh lab; ping plays; the first run (installs everything); the no-change run; ping
plays again. The ping play uses the lab's bare inventory (it does not load the declaration):
it is the bare cost of one task. Targets: first run <= 10x the ping play, no-change run <= 3x.

Usage: bench/converge [USERS [TEAMS]] [--lab NAME] [--index I] [--keep]
  --lab/--index  the lab to start (default: converge, index 110); a lab of that name that is up
                 already is stopped first, so the first run meets a fresh host
  --keep         leave the lab up afterwards (then stop it with tests/lab/lab down --name NAME)
The users' keys are real ed25519 keys, generated once and kept in
$XDG_CACHE_HOME/dokku-teams/bench-keys (default ~/.cache/...). Needs root (the lab).
Exit 1 when a target is missed or a run fails or changes something it should not.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(REPO, "tests", "lab", "lab")
FIRST_TARGET = 10.0
NO_CHANGE_TARGET = 3.0
RECAP = re.compile(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)


def cached_keys(count):
    """``count`` public key lines, made with ssh-keygen the first time and read back after."""
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                         "dokku-teams", "bench-keys")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, "ed25519.pub")
    lines = []
    if os.path.exists(path):
        with open(path) as handle:
            lines = [line.strip() for line in handle if line.strip()]
    if len(lines) < count:
        work = tempfile.mkdtemp(prefix="bench-keys.")
        try:
            for number in range(len(lines), count):
                key = os.path.join(work, "k%d" % number)
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench%04d" % number,
                                "-f", key], check=True, stdin=subprocess.DEVNULL)
                with open(key + ".pub") as handle:
                    lines.append(handle.read().strip())
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with open(path + ".tmp", "w") as handle:
            handle.write("\n".join(lines) + "\n")
        os.replace(path + ".tmp", path)
    return lines[:count]


def declaration(users, teams):
    keys = cached_keys(users)
    declared = [{"name": "user%04d" % number, "keys": [keys[number]]} for number in range(users)]
    declared_teams = [{"name": "dokku@admin", "members": ["user0000"]}]
    declared_teams += [{"name": "team%03d" % number,
                        "owners": ["user%04d" % ((number * 5) % users)],
                        "members": ["user%04d" % ((number * 5 + offset) % users) for offset in range(5)],
                        "commands": ["git-*", "ps:*", "config:*", "apps:list"],
                        "apps": ["app%03d" % number, "app%03d-api" % number],
                        "services": [{"type": "postgres", "name": "db%03d" % number}]} for number in range(teams)]
    return {"dokku_teams_users": declared, "dokku_teams_teams": declared_teams}


def lab(*args):
    done = subprocess.run([LAB] + list(args), stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit("!     tests/lab/lab %s failed:\n%s%s" % (" ".join(args), done.stdout, done.stderr))
    return done.stdout.strip()


class Play(object):
    """One ansible-playbook run: seconds and the recap's counters."""

    def __init__(self, argv, env):
        start = time.monotonic()
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        self.seconds = time.monotonic() - start
        self.rc = done.returncode
        self.out = done.stdout + done.stderr
        found = RECAP.search(done.stdout)
        self.ok, self.changed, self.unreachable, self.failed, self.skipped = (
            [int(x) for x in found.groups()] if found else (None,) * 5)

    def check(self, what, changed=None):
        if self.rc != 0 or self.failed or self.unreachable or (changed is not None and self.changed != changed):
            raise SystemExit("!     %s: rc=%s changed=%s\n%s" % (what, self.rc, self.changed, self.out[-8000:]))
        return self


def setup(work, lab_inventory, users, teams):
    collections = os.path.join(work, "collections", "ansible_collections", "dokku_ci")
    os.makedirs(collections)
    os.symlink(REPO, os.path.join(collections, "teams"))
    inventory = os.path.join(work, "inventory")
    os.makedirs(os.path.join(inventory, "group_vars"))
    shutil.copyfile(lab_inventory, os.path.join(inventory, "hosts.ini"))
    with open(os.path.join(inventory, "group_vars", "dokku.yml"), "w") as handle:
        yaml.safe_dump(declaration(users, teams), handle, default_flow_style=False, width=1000)
    with open(os.path.join(work, "ping.yml"), "w") as handle:
        handle.write("- hosts: dokku\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"), ANSIBLE_PIPELINING="1",
               ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=os.path.join(work, "tmp"), ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(work, "cp"),
               ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s")
    site = ["ansible-playbook", "-i", inventory, os.path.join(REPO, "playbooks", "site.yml")]
    ping = ["ansible-playbook", "-i", lab_inventory, os.path.join(work, "ping.yml")]
    return env, site, ping


def report(users, teams, pings, first, again):
    ping = statistics.median(pings)
    print("declared: %d users, %d teams (+ dokku@admin)" % (users, teams))
    print("ping play (median of %d):  %6.2f s" % (len(pings), ping))
    for name, run, target in (("first run (fresh host):", first, FIRST_TARGET),
                              ("no-change run:", again, NO_CHANGE_TARGET)):
        print("%-26s %6.2f s   ratio %5.2f (target <= %g)   tasks: %d executed (%d changed), %d skipped"
              % (name, run.seconds, run.seconds / ping, target, run.ok, run.changed, run.skipped))
    met = first.seconds / ping <= FIRST_TARGET and again.seconds / ping <= NO_CHANGE_TARGET
    print("result: %s" % ("targets met" if met else "TARGET MISSED"))
    return 0 if met else 1


def main():
    parser = argparse.ArgumentParser(prog="bench/converge", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("users", nargs="?", type=int, default=1000)
    parser.add_argument("teams", nargs="?", type=int, default=200)
    parser.add_argument("--lab", default="converge")
    parser.add_argument("--index", default="110")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("!     run as root (the lab needs it)")
    if args.lab in lab("status").split():
        lab("down", "--name", args.lab)
    lab("up", "--name", args.lab, "--index", args.index)
    work = tempfile.mkdtemp(prefix="bench-converge.")
    try:
        env, site, ping = setup(work, lab("inventory", "--name", args.lab), args.users, args.teams)
        Play(ping, env).check("warm-up ping play")
        pings = [Play(ping, env).check("ping play").seconds for number in range(3)]
        first = Play(site, env).check("first run")
        again = Play(site, env).check("no-change run", changed=0)
        pings += [Play(ping, env).check("ping play").seconds for number in range(2)]
        return report(args.users, args.teams, pings, first, again)
    finally:
        for name in os.listdir(os.path.join(work, "cp")) if os.path.isdir(os.path.join(work, "cp")) else ():
            # stop the ControlPersist masters this run started
            subprocess.run(["ssh", "-O", "exit", "-o", "ControlPath=" + os.path.join(work, "cp", name), "lab"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            lab("down", "--name", args.lab)


if __name__ == "__main__":
    sys.exit(main())
