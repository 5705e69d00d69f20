"""Faults on a provisioned host.

- state.json corrupted, truncated, replaced by a symlink, made group-writable: every command
  is refused with exit 75 (nothing reaches Dokku), `dokku-teams doctor` names the problem,
  and a re-run of site.yml repairs it;
- the disk full (a small tmpfs over the state directory) during a change: the change reports
  a clear error, the old state stays intact byte for byte, the gate keeps the old policy;
- the audit log unwritable (full, or read-only): everything is refused, nothing runs.

Each test puts the good state back itself (a copy taken first), so a failure does not spill
into the next test.
"""
import re
import uuid

import pytest

import kit

D = kit.STATE_DIR
GOOD = "/root/lt-state-good"

FAULTS = {
    "corrupt": ("printf '{\"version\": 1, garbage' > %s/state.json" % D, r"state\.json is not valid JSON"),
    "truncated": ("truncate -s 0 %s/state.json" % D, r"state\.json is not valid JSON"),
    "symlink": ("cp -a {d}/state.json /root/lt-elsewhere.json && ln -sfn /root/lt-elsewhere.json "
                "{d}/state.json".format(d=D), r"state\.json is a symlink"),
    "group-writable": ("chmod 0620 %s/state.json" % D, r"state\.json is group- or world-writable"),
}


@pytest.fixture
def good(converged):
    """Snapshot of the good state; restored afterwards whatever the test did."""
    lab = converged
    kit.root(lab, "rm -rf {g} && cp -a {d} {g} && dokku-teams doctor >/dev/null".format(g=GOOD, d=D))
    kit.root(lab, "for a in web web-api billing; do dokku apps:exists $a >/dev/null 2>&1 || "
                  "dokku apps:create $a >/dev/null; done")
    yield lab
    kit.root(lab, "umount %s 2>/dev/null; umount /var/log/dokku-teams 2>/dev/null; "
                  "rm -rf {d} && cp -a {g} {d} && rm -f /root/lt-elsewhere.json && "
                  # a copied-back state is not the file the writers sealed: recover reseals it
                  "dokku-teams recover >/dev/null && dokku-teams doctor".format(
                      d=D, g=GOOD) % D)


def calls_with(lab, tag):
    return int(kit.root(lab, "grep -c -- %s %s || true" % (tag, kit.CALLS)).stdout.strip() or 0)


def break_state(lab, fault):
    kit.root(lab, FAULTS[fault][0])


@pytest.mark.parametrize("fault", list(FAULTS))
def test_doctor_names_the_fault(good, fault):
    lab = good
    break_state(lab, fault)
    r = kit.doctor(lab)
    assert r.returncode != 0, r.stdout
    assert re.search(FAULTS[fault][1], r.stdout + r.stderr), r.stdout + r.stderr


@pytest.mark.parametrize("fault", list(FAULTS))
def test_gate_refuses_everything(good, keys, fault):
    lab = good
    break_state(lab, fault)
    tag = "LTF%s" % uuid.uuid4().hex[:10]
    for user, cmd in (("alice", "config:get web %s" % tag), ("root-admin", "config:get billing %s" % tag),
                      ("oscar", "teams:whoami"), ("bob", "config:get web %s" % tag)):
        r = kit.as_user(lab, keys, user, cmd)
        assert r.returncode == 75, (user, cmd, r.returncode, r.stderr)
        assert "Traceback" not in r.stderr
    assert calls_with(lab, tag) == 0


@pytest.mark.parametrize("fault", list(FAULTS))
def test_site_yml_repairs(good, inventory, keys, fault):
    lab = good
    break_state(lab, fault)
    r = kit.converge(inventory, keys, args=("--tags", "dokku_teams_config,dokku_teams_policy"))
    assert r.rc == 0, r
    assert kit.doctor(lab).returncode == 0
    assert kit.as_user(lab, keys, "alice", "config:get web X").returncode == 0


def test_disk_full_keeps_the_old_state(good, inventory, keys):
    lab = good
    kit.root(lab, "mount -t tmpfs -o size=64k,mode=0700 lt-full {d} && cp -a {g}/. {d}/ && dokku-teams recover >/dev/null && "
                  "(dd if=/dev/zero of={d}/fill bs=1k 2>/dev/null; true) && "
                  "sha256sum {d}/state.json > /root/lt-sum".format(d=D, g=GOOD))
    # root at the console
    r = kit.root(lab, "dokku-teams teams:member-add web bob", check=False)
    assert r.returncode != 0 and "No space left on device" in r.stderr, (r.returncode, r.stdout, r.stderr)
    # an owner over SSH
    r = kit.as_user(lab, keys, "olivia", "teams:member-add web bob")
    assert r.returncode != 0 and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    # Ansible
    d = kit.declared(keys)
    for team in d["dokku_teams_teams"]:
        if team["name"] == "web":
            team["members"] = ["alice", "bob"]
    run = kit.converge(inventory, keys, d, args=("--tags", "dokku_teams_policy"))
    assert run.rc != 0 and "No space left on device" in run.out, run
    # the old state, intact; the gate keeps the old policy
    kit.root(lab, "sha256sum -c /root/lt-sum >/dev/null")
    assert kit.doctor(lab).returncode == 0
    assert kit.as_user(lab, keys, "bob", "config:get web X").returncode == 77
    assert kit.as_user(lab, keys, "alice", "config:get web X").returncode == 0
    # space again: the same change goes through
    kit.root(lab, "rm -f %s/fill" % D)
    r = kit.as_user(lab, keys, "olivia", "teams:member-add web bob")
    assert r.returncode == 0, r.stderr
    assert kit.as_user(lab, keys, "bob", "config:get web X").returncode == 0


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_audit_log_unwritable_refuses_everything(good, keys, how):
    lab = good
    setup = ("mount -t tmpfs -o size=16k,mode=0700 lt-audit /var/log/dokku-teams && "
             "install -m 0600 /dev/null /var/log/dokku-teams/audit.log && ")
    setup += ("(dd if=/dev/zero of=/var/log/dokku-teams/fill bs=1k 2>/dev/null; true)" if how == "full"
              else "mount -o remount,ro /var/log/dokku-teams")
    kit.root(lab, setup)
    tag = "LTA%s" % uuid.uuid4().hex[:10]
    for user, cmd in (("alice", "config:get web %s" % tag), ("root-admin", "config:get billing %s" % tag),
                      ("alice", "teams:whoami"), ("bob", "config:get web %s" % tag)):
        r = kit.as_user(lab, keys, user, cmd)
        assert r.returncode == 75, (user, cmd, r.returncode, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
    assert calls_with(lab, tag) == 0
