# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dokku_ci_user: one user or many, the state and authorized_keys."""

from __future__ import annotations

import os
import pwd

from conftest import CI_ACCOUNT, GATE, assert_refused, key_line, warnings_of

MODULE = "dokku_ci_user"


def test_create_then_noop(host):
    key = key_line(1, "alice@laptop")
    result = host.run(MODULE, name="alice", keys=[key])
    assert result["changed"] is True
    assert result["added"] == ["alice"]
    assert result["authorized_keys_changed"] is True
    assert result["user"]["keys"] == [key]
    assert result["user"]["fingerprints"][0].startswith("SHA256:")
    assert host.state()["users"] == {"alice": {"keys": [key], "from": []}}
    lines = [line for line in host.keys_text().splitlines() if not line.startswith("#")]
    assert lines == ['restrict,command="/usr/bin/sudo -n %s --user alice --key %s" %s'
                     % (GATE, result["user"]["fingerprints"][0], key)]
    info = os.stat(host.authorized_keys)
    # sshd reads it as ci; nobody else learns the keys: root:ci 0640
    assert (oct(info.st_mode & 0o777), info.st_uid, info.st_gid) == ("0o640", 0, pwd.getpwnam(CI_ACCOUNT).pw_gid)

    again = host.run(MODULE, name="alice", keys=[key])
    assert again["changed"] is False
    assert again["authorized_keys_changed"] is False
    assert again["added"] == again["updated"] == again["removed"] == []


def test_add_key_exclusive_and_from(host):
    first, second = key_line(1), key_line(2)
    host.run(MODULE, name="alice", keys=[first])
    added = host.run(MODULE, name="alice", keys=[second])
    assert added["changed"] and added["updated"] == ["alice"]
    assert sorted(added["user"]["keys"]) == sorted([first, second])
    exclusive = host.run(MODULE, name="alice", keys=[second], exclusive_keys=True)
    assert exclusive["changed"] and exclusive["user"]["keys"] == [second]
    limited = host.run(MODULE, name="alice", **{"from": ["192.0.2.0/24", "10.0.0.1"]})
    assert limited["changed"] and limited["user"]["from"] == ["10.0.0.1", "192.0.2.0/24"]
    assert 'from="10.0.0.1,192.0.2.0/24"' in host.keys_text()
    # keys omitted: kept; from omitted: kept
    same = host.run(MODULE, name="alice")
    assert same["changed"] is False and same["user"]["from"] == ["10.0.0.1", "192.0.2.0/24"]


def test_same_key_other_comment_is_no_change(host):
    host.run(MODULE, name="alice", keys=[key_line(1, "one")])
    result = host.run(MODULE, name="alice", keys=[key_line(1, "other comment")])
    assert result["changed"] is False


def test_remove_user_takes_them_out_of_teams(host):
    host.run(MODULE, users=[{"name": "alice", "keys": [key_line(1)]}, {"name": "olivia", "keys": [key_line(2)]}])
    host.run("dokku_team", name="web", owners=["olivia"], members=["alice", "olivia"])
    result = host.run(MODULE, name="olivia", state="absent", diff=True)
    assert result["changed"] and result["removed"] == ["olivia"]
    assert result["user"] is None
    state = host.state()
    assert "olivia" not in state["users"]
    assert state["teams"]["web"]["owners"] == [] and state["teams"]["web"]["members"] == ["alice"]
    assert "olivia" not in host.keys_text()
    again = host.run(MODULE, name="olivia", state="absent")
    assert again["changed"] is False


def test_check_mode_writes_nothing(host):
    host.run(MODULE, name="alice", keys=[key_line(1)])
    before = host.snapshot()
    result = host.run(MODULE, check=True, diff=True, name="bob", keys=[key_line(2)])
    assert result["changed"] is True and result["added"] == ["bob"]
    assert result["authorized_keys_changed"] is True
    assert host.snapshot() == before
    gone = host.run(MODULE, check=True, name="alice", state="absent")
    assert gone["changed"] is True and host.snapshot() == before


def test_check_mode_without_state_creates_nothing(host):
    result = host.run(MODULE, check=True, name="alice", keys=[key_line(1)])
    assert result["changed"] is True
    assert not os.path.exists(host.state_dir)
    assert not os.path.exists(host.authorized_keys)


def test_diff_shows_exactly_the_change(host):
    host.run(MODULE, users=[{"name": "alice", "keys": [key_line(1)]}, {"name": "bob", "keys": [key_line(2)]}])
    result = host.run(MODULE, diff=True, name="bob", keys=[key_line(3)], exclusive_keys=True)
    state_diff, keys_diff = result["diff"]
    assert state_diff["before"] == {"users": {"bob": {"keys": [key_line(2)], "from": []}}}
    assert state_diff["after"] == {"users": {"bob": {"keys": [key_line(3)], "from": []}}}
    assert keys_diff["before_header"] == host.authorized_keys
    assert key_line(2) in keys_diff["before"] and key_line(2) not in keys_diff["after"]
    assert key_line(3) in keys_diff["after"]
    assert "PRIVATE" not in str(result["diff"])
    nochange = host.run(MODULE, diff=True, name="bob", keys=[key_line(3)])
    assert nochange["diff"] == [{"before": {"users": {}}, "after": {"users": {}}}]


def test_bad_input_writes_nothing(host):
    host.run(MODULE, name="alice", keys=[key_line(1)])
    cases = [
        (dict(name="Alice", keys=[key_line(2)]), "invalid user name"),
        (dict(name="bob", keys=["ssh-ed25519 AAAA"]), "keys[0]"),
        (dict(name="bob", keys=['command="x" ' + key_line(2)]), "options"),
        (dict(name="bob"), "give keys"),
        (dict(name="bob", keys=[key_line(1)]), "already belongs to user alice"),
        (dict(name="bob", keys=[key_line(2)], **{"from": ["10.0.0.1/8"]}), "host bits"),
        (dict(name="alice", keys=[], exclusive_keys=True), "at least one"),
        (dict(users=[{"name": "bob", "keys": [key_line(2)]}, {"name": "bob", "keys": [key_line(3)]}]), "twice"),
        (dict(users=[{"name": "bob", "keys": [key_line(2)]}, {"name": "x\ny", "keys": [key_line(3)]}]),
         "invalid user name"),
        (dict(name="bob", keys=[key_line(2)], purge=True), "purge only goes with users"),
    ]
    assert_refused(host, MODULE, cases)


def test_list_form_and_purge(host):
    users = [{"name": "u%03d" % index, "keys": [key_line(index)]} for index in range(20)]
    result = host.run(MODULE, users=users)
    assert result["changed"] and len(result["added"]) == 20
    assert host.run(MODULE, users=users)["changed"] is False
    host.run("dokku_team", name="web", members=["u000", "u019"])
    kept = users[:10]
    purged = host.run(MODULE, users=kept, purge=True, diff=True)
    assert purged["removed"] == ["u%03d" % index for index in range(10, 20)]
    assert sorted(host.state()["users"]) == ["u%03d" % index for index in range(10)]
    assert host.state()["teams"]["web"]["members"] == ["u000"]
    assert host.run(MODULE, users=kept, purge=True)["changed"] is False
    # an item can be absent, and its exclusive_keys falls back to the top level
    mixed = host.run(MODULE, users=[{"name": "u000", "state": "absent"},
                                    {"name": "u001", "keys": [key_line(100)]}], exclusive_keys=True)
    assert mixed["removed"] == ["u000"] and mixed["updated"] == ["u001"]
    assert host.state()["users"]["u001"]["keys"] == [key_line(100)]


def test_single_and_list_forms_give_identical_states(tmp_path):
    from conftest import Host
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    one, many = Host(tmp_path / "one"), Host(tmp_path / "many")
    declaration = [
        {"name": "alice", "keys": [key_line(1), key_line(2)], "from": ["192.0.2.0/24"]},
        {"name": "bob", "keys": [key_line(3)]},
        {"name": "carol", "keys": [key_line(4)], "exclusive_keys": True},
    ]
    for item in declaration:
        one.run(MODULE, **item)
    many.run(MODULE, users=declaration)
    assert one.state()["users"] == many.state()["users"]
    assert one.keys_text().replace(one.root, "") == many.keys_text().replace(many.root, "")
    one.run(MODULE, name="bob", state="absent")
    many.run(MODULE, users=[declaration[0], declaration[2]], purge=True)
    assert one.state()["users"] == many.state()["users"]


def test_without_config_warns_and_leaves_authorized_keys(host):
    missing = os.path.join(host.root, "no-such.conf")
    result = host.run(MODULE, name="alice", keys=[key_line(1)], config=missing, state_dir=host.state_dir)
    assert result["changed"] and result["authorized_keys_changed"] is False
    assert any("does not exist" in warning for warning in warnings_of(result))
    assert host.keys_text() is None
    assert "alice" in host.state()["users"]
    # the next run with the config writes the file (it is regenerated, not patched)
    synced = host.run(MODULE, name="alice", keys=[key_line(1)])
    assert synced["changed"] is True and synced["authorized_keys_changed"] is True


def test_authorized_keys_drift_is_repaired(host):
    host.run(MODULE, name="alice", keys=[key_line(1)])
    with open(host.authorized_keys, "a") as handle:
        handle.write(key_line(9) + "\n")
    result = host.run(MODULE, name="alice", keys=[key_line(1)])
    assert result["changed"] and result["authorized_keys_changed"]
    assert key_line(9) not in host.keys_text()


def test_a_world_readable_authorized_keys_is_repaired(host):
    """Before 0.2 the file was 0644: anyone on the host could read who logs in with which key."""
    host.run(MODULE, name="alice", keys=[key_line(1)])
    os.chmod(host.authorized_keys, 0o644)
    os.chown(host.authorized_keys, 0, 0)
    result = host.run(MODULE, name="alice", keys=[key_line(1)])
    assert result["authorized_keys_changed"] is True
    info = os.stat(host.authorized_keys)
    assert (info.st_mode & 0o777, info.st_gid) == (0o640, pwd.getpwnam(CI_ACCOUNT).pw_gid)
    assert host.run(MODULE, name="alice", keys=[key_line(1)])["changed"] is False


def test_refuses_when_the_ci_account_does_not_exist(host):
    text = open(host.config).read().replace("ci_user=%s" % CI_ACCOUNT, "ci_user=no-such-account")
    with open(host.config, "w") as handle:
        handle.write(text)
    result = host.run(MODULE, name="alice", keys=[key_line(1)])
    assert result.get("failed") and "no-such-account" in result["msg"] and "does not exist" in result["msg"]
    assert not os.path.exists(host.authorized_keys)


def test_refuses_a_writable_keys_directory(host):
    host.run(MODULE, name="alice", keys=[key_line(1)])
    os.chmod(host.ssh_dir, 0o777)
    try:
        result = host.run(MODULE, name="bob", keys=[key_line(2)])
    finally:
        os.chmod(host.ssh_dir, 0o755)
    assert result.get("failed") and "must not be able to change its own keys" in result["msg"]


def test_refuses_a_symlinked_keys_file(host, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("")
    os.symlink(str(target), host.authorized_keys)
    result = host.run(MODULE, name="alice", keys=[key_line(1)])
    # rename replaces the link itself: the file it pointed to is never written
    assert target.read_text() == ""
    assert result.get("failed") or not os.path.islink(host.authorized_keys)
