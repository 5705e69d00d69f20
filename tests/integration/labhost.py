"""Helpers shared by the integration tests (the fixtures are in conftest.py): starting a lab of
one's own, running site.yml against a lab, and talking to it as root or as a user over SSH."""
import json
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import labctl  # noqa: E402

EXAMPLE_VARS = os.path.join(REPO, "examples", "inventory", "group_vars", "dokku.yml")
CALLS = "/var/log/dokku-standin/calls.jsonl"
DENIED = 77
# site.yml's policy tasks alone (the users and teams, and authorized_keys with them): for the
# runs that change or put back what inventory declares, on a host the whole role converged.
POLICY_ONLY = ("--tags", "dokku_teams_policy")


def own_lab(name, index, what, existing=None):
    """A generator for a lab fixture: the lab named ``existing`` (already up, left up), else a
    fresh lab ``name`` at ``index`` (a leftover of that name is taken down first), stopped
    afterwards. ``what`` names the tests in the failure messages."""
    if os.geteuid() != 0:
        pytest.fail("%s need root (the lab cannot be started otherwise)" % what)
    if existing:
        try:
            yield labctl.get(existing)
        except labctl.LabError as e:
            pytest.fail("%s: lab %s: %s" % (what, existing, e))
        return
    if labctl.load_state(name) is not None:
        labctl.down(name)  # a leftover from an interrupted run: start from a fresh host
    try:
        lab = labctl.up(name, index)
    except labctl.LabError as e:
        pytest.fail("%s: lab %s could not be built or started: %s" % (what, name, e))
    yield lab
    labctl.down(name)


class Run(object):
    def __init__(self, proc, seconds):
        self.rc = proc.returncode
        self.out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
        self.err = proc.stderr
        self.seconds = seconds
        m = re.search(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                      self.out, re.M)
        self.ok, self.changed, self.unreachable, self.failed = (
            [int(x) for x in m.groups()] if m else (None, None, None, None))

    def changed_tasks(self):
        """Names of the tasks that reported a change."""
        names, current = [], None
        for line in self.out.splitlines():
            m = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\]", line)
            if m:
                current = m.group(1)
            elif line.startswith("changed:") and current and current not in names:
                names.append(current)
        return names

    def __str__(self):
        return "rc=%s (%.1f s)\n%s\n%s" % (self.rc, self.seconds, self.out[-6000:], self.err[-3000:])


def playbook(ansible_env, inventory, keys, *args, extra_vars=None):
    argv = ["ansible-playbook", "-i", str(inventory), ansible_env["DOKKU_TEAMS_PLAYBOOK"],
            "-e", "demo_keys_dir=%s" % keys]
    if extra_vars is not None:
        path = os.path.join(str(inventory), "extra-vars.json")
        with open(path, "w") as f:
            json.dump(extra_vars, f)
        argv += ["-e", "@" + path]
    t0 = time.monotonic()
    proc = subprocess.run(argv + list(args), env=ansible_env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=900, check=False)
    return Run(proc, time.monotonic() - t0)


def inventory_dir(lab, directory, group_vars=None):
    """An inventory dir: the lab in group dokku + group_vars/dokku.yml (``group_vars``, a text,
    or a copy of the example's)."""
    (directory / "group_vars").mkdir(parents=True)
    with open(lab.inventory) as f:
        (directory / "hosts.ini").write_text(f.read())
    if group_vars is None:
        with open(EXAMPLE_VARS) as f:
            group_vars = f.read()
    (directory / "group_vars" / "dokku.yml").write_text(group_vars)
    return directory


def root(lab, cmd, **kw):
    r = labctl.ssh(lab, cmd, **kw)
    assert r.returncode == 0, "%s -> %d\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr)
    return r.stdout


def as_user(lab, keys, name, cmd=None, options=(), input=None, extra=()):
    """`ssh -i keys/NAME ci@LAB CMD` (CMD as ssh sends it: one string)."""
    argv = labctl.ssh_argv(lab, user="ci", key=str(keys / name), options=options)
    argv = argv[:-1] + list(extra) + argv[-1:]
    if cmd is not None:
        argv += ["--", cmd]
    kw = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, **kw)


def calls(lab):
    """The stand-in's call log, one dict per call."""
    out = root(lab, "cat %s" % CALLS)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def new_calls(lab, before):
    return calls(lab)[before:]


def example_vars():
    with open(EXAMPLE_VARS) as f:
        return yaml.safe_load(f)


def export(lab):
    return json.loads(root(lab, "dokku-teams export"))
