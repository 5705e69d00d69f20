"""site.yml in check mode on a host it never saw, and the stamp that lets unchanged phases skip.

Needs root (the lab). Never skips: a lab that cannot start is a failure. The tests run in file
order against one lab (module scope) and build on each other:

1. `--check --diff` on a FRESH host (never converged): succeeds, previews the users and teams,
   writes nothing;
2. converge, then a no-change run skips every phase, the plan and both policy calls;
3. a changed inventory in `--check` reports exactly that change and changes nothing;
4. a hand edit of a file a phase manages, or of authorized_keys, is repaired by the next run
   (the stamp vouches only for what is still as the last run left it).

Self-contained: lab `rc0` at index 112, started and stopped here through tests/lab/lab.
(To share the integration suite's lab fixture instead, replace `lab` below by it: the tests
need only a fresh host's inventory path and a way to run a root command on it.)
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(REPO, "tests", "lab", "lab")
LAB_NAME = "rc0"
LAB_INDEX = "112"
EXAMPLE_VARS = os.path.join(REPO, "examples", "inventory", "group_vars", "dokku.yml")
# What a run must never touch before it is real, and what a phase manages.
UNTOUCHED = "/etc/dokku-teams /usr/local/lib/dokku-teams /etc/sudoers.d/dokku-teams /home/ci"
INSTALL = "Install the ci account, the engine, its configuration, sudoers rules, the plugins and sshd settings"


def lab_cli(*args):
    done = subprocess.run([LAB] + list(args), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, "tests/lab/lab %s: %s%s" % (" ".join(args), done.stdout, done.stderr)
    return done.stdout.strip()


def on_host(cmd, ok=True):
    done = subprocess.run([LAB, "ssh", "--name", LAB_NAME, "--", cmd], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)
    if ok:
        assert done.returncode == 0, "%s -> %d\n%s%s" % (cmd, done.returncode, done.stdout, done.stderr)
    return done


@pytest.fixture(scope="module")
def lab():
    if os.geteuid() != 0:
        pytest.fail("the role tests need root (the lab cannot be started otherwise)")
    if re.search(r"^%s\s" % LAB_NAME, lab_cli("status"), re.M):
        lab_cli("down", "--name", LAB_NAME)   # a leftover from an interrupted run: start fresh
    lab_cli("up", "--name", LAB_NAME, "--index", LAB_INDEX)
    yield lab_cli("inventory", "--name", LAB_NAME)
    lab_cli("down", "--name", LAB_NAME)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("rolecheck")


@pytest.fixture(scope="module")
def site(lab, work):
    """A runner of site.yml against the lab: a snapshot of the checkout as the collection,
    the lab's inventory with a copy of the example group_vars and its keys."""
    dest = work / "collections" / "ansible_collections" / "dokku_ci" / "teams"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in ("bin", "meta", "playbooks", "plugins", "roles"):
        shutil.copytree(os.path.join(REPO, name), dest / name, symlinks=True, ignore=ignore)
    shutil.copyfile(os.path.join(REPO, "galaxy.yml"), dest / "galaxy.yml")
    keys = work / "keys"
    subprocess.run([os.path.join(REPO, "examples", "make-keys"), str(keys)], check=True, stdout=subprocess.DEVNULL)
    inventory = work / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    shutil.copyfile(lab, inventory / "hosts.ini")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_")))
    env.update(ANSIBLE_CONFIG=os.path.join(HERE, "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(work / "collections"),
               ANSIBLE_PIPELINING="1", ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="False",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", os.defpath))

    def run(*args, group_vars=None):
        with open(EXAMPLE_VARS) as handle:
            declared = yaml.safe_load(handle)
        declared.update(group_vars or {})
        with open(inventory / "group_vars" / "dokku.yml", "w") as handle:
            yaml.safe_dump(declared, handle)
        done = subprocess.run(["ansible-playbook", "-i", str(inventory), str(dest / "playbooks" / "site.yml"),
                               "-e", "demo_keys_dir=%s" % keys] + list(args),
                              env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900,
                              check=False)
        return Result(done)

    return run


class Result(object):
    def __init__(self, done):
        self.rc = done.returncode
        self.out = done.stdout
        self.err = done.stderr
        found = re.search(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)",
                          self.out, re.M)
        self.ok, self.changed, self.unreachable, self.failed, self.skipped = (
            [int(x) for x in found.groups()] if found else (None,) * 5)

    def tasks(self, status):
        """Names of the tasks that reported ``status`` (changed, ok, skipping) for the host."""
        names, current = [], None
        for line in self.out.splitlines():
            found = re.match(r"^(?:TASK|RUNNING HANDLER) \[(?:[^:\]]+ : )?(.*)\]", line)
            if found:
                current = found.group(1)
            elif line.startswith(status + ":") and current not in names:
                names.append(current)
        return names

    def __str__(self):
        return "rc=%s\n%s\n%s" % (self.rc, self.out[-8000:], self.err[-3000:])


def host_print():
    """What a check must leave exactly as it was: the files the role manages and the state."""
    return on_host("for f in /etc/ssh/sshd_config /etc/sudoers.d/* /var/lib/dokku-teams/state.json"
                   " /home/ci/.ssh/authorized_keys; do [ -e $f ] && sha1sum $f; done;"
                   " getent passwd ci; ls -la --time-style=+ /etc/sudoers.d; true").stdout


def test_check_diff_on_a_fresh_host_previews_and_writes_nothing(lab, site):
    assert on_host("test -e /etc/dokku-teams", ok=False).returncode != 0, "the lab is not fresh"
    before = host_print()
    result = site("--check", "--diff")
    assert result.rc == 0 and result.failed == 0, str(result)
    changed = result.tasks("changed")
    # the preview names the account, the engine, the sudoers rule and the declared users
    for task in (INSTALL, "Apply the declared users"):
        assert task in changed, (task, changed)
    for path in ("account ci", "/etc/dokku-teams/gate.conf", "/etc/sudoers.d/dokku-teams", "/etc/ssh/sshd_config",
                 "/usr/local/lib/dokku-teams/module_utils/gate.py"):
        assert "after: %s\n" % path in result.out, path
    # the engine's sources are one line each: the preview of the users and teams stays readable
    assert "content not shown" in result.out and "from __future__ import annotations" not in result.out
    for name in ("root-admin", "olivia", "deploy-bot"):
        assert name in result.out, name
    assert on_host("test -e /etc/dokku-teams || test -e /usr/local/lib/dokku-teams || id ci",
                   ok=False).returncode != 0, "check mode wrote to the host"
    assert host_print() == before


def test_no_change_run_skips_every_phase_and_the_policy_calls(lab, site):
    first = site()
    assert first.rc == 0 and first.failed == 0, str(first)
    assert on_host("test -f /usr/local/lib/dokku-teams/role-stamp.json && stat -c '%U %a'"
                   " /usr/local/lib/dokku-teams/role-stamp.json").stdout.split() == ["root", "600"]
    again = site()
    assert again.rc == 0 and again.changed == 0, "changed: %s\n%s" % (again.tasks("changed"), again)
    ran = again.tasks("ok")
    # one look at the host: no phase, no check of the same declaration again, no policy call
    assert "Look at the host (which phases are current, the engine, the ci account, the state, sshd)" in ran
    for task in ("Install sudo, sshd, python3 and nodejs/npm from the distribution", INSTALL,
                 "Check the declared users and teams against the host's state", "Apply the declared users",
                 "Apply the declared teams", "Record what this run left on the host (the stamp)"):
        assert task not in ran, (task, ran)
    assert "Check that the ci account's Match block comes first and nothing else overrides its settings" in ran
    check = site("--check", "--diff")
    assert check.rc == 0 and check.changed == 0, "changed: %s\n%s" % (check.tasks("changed"), check)


def test_a_changed_inventory_in_check_mode_reports_exactly_the_change(lab, site):
    before = host_print()
    teams = yaml.safe_load(open(EXAMPLE_VARS))["dokku_teams_teams"]
    web = [team for team in teams if team["name"] == "web"][0]
    web["members"] = web["members"] + ["bob"]
    result = site("--check", "--diff", group_vars={"dokku_teams_teams": teams})
    assert result.rc == 0 and result.failed == 0, str(result)
    assert result.tasks("changed") == ["Check the declared users and teams against the host's state",
                                       "Apply the declared teams"], str(result)
    assert re.search(r"^\+\s+\"?bob\"?", result.out, re.M) or '"bob"' in result.out, result.out
    assert host_print() == before


def test_hand_edits_are_repaired_by_the_next_run(lab, site):
    sudoers = "/etc/sudoers.d/dokku-teams"
    good = on_host("sha1sum %s" % sudoers).stdout
    on_host("echo '# edited by hand' >> %s && chmod 0444 %s" % (sudoers, sudoers))
    on_host("echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0yVvFRn7K3u9AqQ4VdVm5iJq0p5Xl8pD7VQyJmZ6Qe x'"
            " >> /home/ci/.ssh/authorized_keys")
    result = site("--diff")
    assert result.rc == 0 and result.failed == 0, str(result)
    changed = result.tasks("changed")
    assert INSTALL in changed, changed
    # only the sudoers phase ran: the rule, nothing else of the install
    install = result.out.split(INSTALL + "] ", 1)[1].split("\nTASK [", 1)[0]
    assert re.findall(r"^\+\+\+ after: (\S+)", install, re.M) == [sudoers], install
    assert "Apply the declared users" in changed, changed
    assert on_host("sha1sum %s" % sudoers).stdout == good
    assert on_host("stat -c %%a %s" % sudoers).stdout.strip() == "440"
    assert "AAAAC3NzaC1lZDI1NTE5AAAAIH0yVvFRn7K3u9AqQ4VdVm5iJq0p5Xl8pD7VQyJmZ6Qe" not in on_host(
        "cat /home/ci/.ssh/authorized_keys").stdout
    assert on_host("dokku-teams doctor").returncode == 0
    again = site()
    assert again.rc == 0 and again.changed == 0, "changed: %s\n%s" % (again.tasks("changed"), again)
    assert json.loads(on_host("cat /usr/local/lib/dokku-teams/role-stamp.json").stdout)["phases"]


def test_an_unusable_state_is_rebuilt_from_inventory(lab, site):
    """recover reports its outcome as JSON; the role says what a rebuilt state cannot bring back."""
    before = json.loads(on_host("dokku-teams export").stdout)
    on_host("echo '{\"version\": 1, garbage' > /var/lib/dokku-teams/state.json")
    assert on_host("dokku-teams doctor", ok=False).returncode != 0
    result = site()
    assert result.rc == 0 and result.failed == 0, str(result)
    changed = result.tasks("changed")
    assert "Set an unusable state aside to rebuild it from inventory" in changed, changed
    assert "Rebuilt an empty state" in result.out and "dokku-teams import /var/lib/dokku-teams/state.json.broken-" \
        in result.out, result.out
    after = json.loads(on_host("dokku-teams export").stdout)
    assert (after["users"], after["teams"]) == (before["users"], before["teams"])
    assert on_host("ls /var/lib/dokku-teams").stdout.count("state.json.broken-") == 1
