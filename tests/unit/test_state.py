# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
import copy
import json

import pytest

from module_utils import state as st
from module_utils import sshkeys
from module_utils.errors import Invalid

from keyutil import ed25519_line

K = {name: ed25519_line(name + "@host") for name in ("alice", "bob", "carol", "olivia", "root")}


def base():
    s = st.empty_state()
    for name in ("alice", "bob", "olivia"):
        s = st.add_user(s, name, [K[name]])
    s = st.create_team(s, "web")
    s = st.add_members(s, "web", ["olivia"], "owner")
    s = st.add_members(s, "web", ["alice"], "member")
    s = st.add_grants(s, "web", commands=["git-*", "apps:list"], apps=["web", "web-api"],
                      services=[{"type": "postgres", "name": "web-db"}])
    return st.validate(s)


def unchanged(func, s, *args, **kwargs):
    """Call a mutation that must fail; the input must be left exactly as it was."""
    before = copy.deepcopy(s)
    with pytest.raises(Invalid) as info:
        func(s, *args, **kwargs)
    assert s == before
    return info.value.message


def test_empty_state():
    s = st.empty_state()
    assert s == {"version": 1, "serial": 0, "users": {},
                 "teams": {"dokku@admin": {"owners": [], "members": [], "commands": [], "apps": [], "services": []}}}
    assert st.validate(s) == s


def test_validate_normalises():
    doc = {"version": 1, "serial": 3,
           "users": {"bob": {"keys": [K["bob"], K["bob"]]}, "alice": {"keys": [K["alice"]], "from": ["b.example", "10.0.0.0/8", "b.example"]}},
           "teams": {"web": {"members": ["bob", "alice", "bob"], "commands": ["z", "a"],
                             "services": [["redis", "r"], {"type": "postgres", "name": "db"}, ["redis", "r"]]}}}
    out = st.validate(doc)
    assert out["serial"] == 3
    assert out["users"]["bob"] == {"keys": [K["bob"]], "from": []}
    assert out["users"]["alice"]["from"] == ["10.0.0.0/8", "b.example"]
    assert out["teams"]["web"] == {"owners": [], "members": ["alice", "bob"], "commands": ["a", "z"], "apps": [],
                                   "services": [{"type": "postgres", "name": "db"}, {"type": "redis", "name": "r"}]}
    assert "dokku@admin" in out["teams"]
    assert doc["teams"]["web"]["members"] == ["bob", "alice", "bob"]  # input untouched
    assert json.dumps(st.validate(out), sort_keys=True) == json.dumps(out, sort_keys=True)


@pytest.mark.parametrize("mutate,where", [
    (lambda d: d.update(version=2), "unsupported version 2"),
    (lambda d: d.pop("version"), "version: missing"),
    (lambda d: d.update(extra=1), "unknown field 'extra'"),
    (lambda d: d.update(serial=-1), "serial"),
    (lambda d: d.update(serial=True), "serial"),
    (lambda d: d["users"].update({"Alice": {"keys": [K["carol"]]}}), "users.Alice: invalid user name"),
    (lambda d: d["users"]["alice"].update(shell="/bin/sh"), "users.alice: unknown field 'shell'"),
    (lambda d: d["users"]["alice"].update(keys=[]), "users.alice.keys: a user needs at least one"),
    (lambda d: d["users"]["alice"].pop("keys"), "users.alice: a user needs keys"),
    (lambda d: d["users"]["alice"].update(keys=["restrict " + K["alice"]]), r"users.alice.keys\[0\]: SSH public key has options"),
    (lambda d: d["users"]["alice"].update(keys=[K["bob"]]), r"users.bob.keys\[0\]: key SHA256:\S+ already belongs to user alice"),
    (lambda d: d["users"]["alice"].update(keys=[K["alice"], K["alice"].rsplit(" ", 1)[0] + " other"]), "listed twice"),
    (lambda d: d["users"]["alice"].update({"from": ["a,b"]}), "users.alice.from"),
    (lambda d: d["teams"].update({"Web": {}}), "teams.Web: invalid team name"),
    (lambda d: d["teams"].update({"dokku@other": {}}), "teams.dokku@other: invalid team name"),
    (lambda d: d["teams"]["web"].update(colour="red"), "teams.web: unknown field 'colour'"),
    (lambda d: d["teams"]["web"].update(owners=["mallory"]), r"teams.web.owners\[0\]: unknown user 'mallory'"),
    (lambda d: d["teams"]["web"].update(members=["olivia", 3]), r"teams.web.members\[1\]: unknown user"),
    (lambda d: d["teams"]["web"].update(apps=["web", "ok", "Bad_App"]), r"teams.web.apps\[2\]: invalid app name 'Bad_App'"),
    (lambda d: d["teams"]["web"].update(apps="web"), "teams.web.apps: must be a list"),
    (lambda d: d["teams"]["web"].update(commands=["apps:list", "rm -rf"]), r"teams.web.commands\[1\]: invalid command"),
    (lambda d: d["teams"]["web"].update(services=[{"type": "*", "name": "db"}]), r"teams.web.services\[0\]: a service grant for every type"),
    (lambda d: d["teams"]["web"].update(services=[{"type": "Postgres", "name": "db"}]), r"teams.web.services\[0\].type: invalid service type"),
    (lambda d: d["teams"]["web"].update(services=[{"type": "postgres", "name": "-db"}]), r"teams.web.services\[0\].name: invalid service"),
    (lambda d: d["teams"]["web"].update(services=[{"type": "postgres"}]), "needs both type and name"),
    (lambda d: d["teams"]["web"].update(services=[{"type": "postgres", "name": "db", "x": 1}]), "unknown field 'x'"),
    (lambda d: d["teams"]["dokku@admin"].update(commands=["*"]), "teams.dokku@admin.commands: the permissions of dokku@admin cannot be changed"),
    (lambda d: d["teams"]["dokku@admin"].update(owners=["alice"]), "teams.dokku@admin.owners"),
    (lambda d: d["teams"]["dokku@admin"].update(apps=["web"]), "teams.dokku@admin.apps"),
    (lambda d: d["teams"]["dokku@admin"].update(services=[["*", "*"]]), "teams.dokku@admin.services"),
    (lambda d: d["teams"].update({"dokku@app--web": {"apps": ["web", "x"], "commands": ["*"]}}), "an app team grants exactly"),
    (lambda d: d["teams"].update({"dokku@app--web": {"apps": ["web"], "commands": ["git-*"]}}), "an app team grants exactly"),
])
def test_validate_refuses(mutate, where):
    doc = copy.deepcopy(base())
    mutate(doc)
    with pytest.raises(Invalid, match=where):
        st.validate(doc)


def test_validate_accepts_special_teams_and_owner_free_teams():
    doc = copy.deepcopy(base())
    doc["teams"]["dokku@app--shop"] = {"owners": ["alice"], "members": ["alice"], "apps": ["shop"], "commands": ["*"],
                                       "services": [{"type": "redis", "name": "cache"}]}
    doc["teams"]["ops"] = {"members": ["bob"]}  # admins manage a team without owners
    doc["teams"]["empty"] = {}
    doc["teams"]["all"] = {"services": [{"type": "*", "name": "*"}, {"type": "redis", "name": "*"}], "apps": ["*"]}
    out = st.validate(doc)
    assert out["teams"]["ops"]["owners"] == [] and out["teams"]["empty"]["members"] == []


def test_version_error_mentions_version():
    with pytest.raises(Invalid, match="unsupported version 7 .*version 1"):
        st.validate({"version": 7, "serial": 0, "users": {}, "teams": {}})
    with pytest.raises(Invalid, match="unsupported version '1'"):
        st.validate({"version": "1", "serial": 0})


def test_export_import_roundtrip():
    s = base()
    doc = st.export(s)
    assert "serial" not in doc and s["serial"] == 0
    assert doc["teams"]["web"]["owners"] == ["olivia"]
    again = st.import_document(json.loads(json.dumps(doc)))
    assert again == s
    with pytest.raises(Invalid, match="serial"):
        st.validate(doc, internal=True)
    assert "serial" not in st.validate(doc, internal=False)


# ---- users


def test_add_user_and_refusals():
    s = base()
    new = st.add_user(s, "carol", [K["carol"]], from_=["10.0.0.0/8"])
    assert new["users"]["carol"] == {"keys": [K["carol"]], "from": ["10.0.0.0/8"]}
    assert "carol" not in s["users"]
    assert st.add_user(s, "dave", K["carol"])["users"]["dave"]["keys"] == [K["carol"]]  # one string = one key
    assert "already exists" in unchanged(st.add_user, s, "alice", [K["carol"]])
    assert "invalid user name" in unchanged(st.add_user, s, "Carol", [K["carol"]])
    assert "invalid user name" in unchanged(st.add_user, s, "-carol", [K["carol"]])
    assert "invalid user name" in unchanged(st.add_user, s, "carol\n", [K["carol"]])
    assert "invalid user name" in unchanged(st.add_user, s, "c" * 65, [K["carol"]])
    assert "already belongs to user alice" in unchanged(st.add_user, s, "carol", [K["alice"]])
    assert "at least one" in unchanged(st.add_user, s, "carol", [])
    assert "options" in unchanged(st.add_user, s, "carol", ['command="x" ' + K["carol"]])
    assert "one line" in unchanged(st.add_user, s, "carol", [K["carol"] + "\n"])
    assert "from" in unchanged(st.add_user, s, "carol", [K["carol"]], from_=['1.2.3.4"'])
    st.validate(new)


def test_remove_user_leaves_team_without_owner():
    s = base()
    new = st.remove_user(s, "olivia")
    assert "olivia" not in new["users"]
    assert new["teams"]["web"]["owners"] == [] and new["teams"]["web"]["members"] == ["alice"]
    assert s["teams"]["web"]["owners"] == ["olivia"]
    st.validate(new)
    assert "unknown user" in unchanged(st.remove_user, s, "nobody")


def test_keys_add_remove_set():
    s = base()
    second = ed25519_line("alice@phone")
    new = st.add_key(s, "alice", second)
    assert new["users"]["alice"]["keys"] == sorted([K["alice"], second])
    assert s["users"]["alice"]["keys"] == [K["alice"]]
    # the same key (same blob) again, whatever its comment: no change
    assert st.add_key(new, "alice", second.rsplit(" ", 1)[0] + " renamed") == new
    assert "already belongs to user bob" in unchanged(st.add_key, s, "alice", K["bob"])
    assert "unknown user" in unchanged(st.add_key, s, "zed", second)
    fp = sshkeys.parse_key(second).fingerprint
    assert st.remove_key(new, "alice", fp) == s
    assert st.remove_key(new, "alice", second.rsplit(" ", 1)[0]) == s
    assert st.remove_key(s, "alice", second) == s  # absent: no change
    assert "must keep at least one key" in unchanged(st.remove_key, s, "alice", K["alice"])
    replaced = st.set_user_keys(s, "alice", [second])
    assert replaced["users"]["alice"]["keys"] == [second]
    assert "already belongs to user bob" in unchanged(st.set_user_keys, s, "alice", [K["bob"]])
    assert "at least one" in unchanged(st.set_user_keys, s, "alice", [])
    assert st.set_user_from(s, "alice", ["192.0.2.1"])["users"]["alice"]["from"] == ["192.0.2.1"]


# ---- teams


def test_create_and_destroy_team():
    s = base()
    new = st.create_team(s, "api")
    assert new["teams"]["api"] == {"owners": [], "members": [], "commands": [], "apps": [], "services": []}
    assert "api" not in s["teams"]
    assert "already exists" in unchanged(st.create_team, s, "web")
    assert "reserved" in unchanged(st.create_team, s, "dokku@admin")
    assert "reserved" in unchanged(st.create_team, s, "dokku@app--web")
    assert "reserved" in unchanged(st.create_team, s, "dokku@x")
    assert "invalid team name" in unchanged(st.create_team, s, "Web")
    assert "invalid team name" in unchanged(st.create_team, s, "web team")
    assert "invalid team name" in unchanged(st.create_team, s, "web.team")
    assert "invalid team name" in unchanged(st.create_team, s, "w" * 64)
    gone = st.destroy_team(s, "web")
    assert "web" not in gone["teams"] and "web" in s["teams"]
    assert "cannot be destroyed" in unchanged(st.destroy_team, s, "dokku@admin")
    assert "does not exist" in unchanged(st.destroy_team, s, "nope")


def test_members_and_owners():
    s = base()
    new = st.add_members(s, "web", ["bob", "alice"], "member")
    assert new["teams"]["web"]["members"] == ["alice", "bob"]
    assert s["teams"]["web"]["members"] == ["alice"]
    new = st.add_members(new, "web", "bob", "owner")
    assert new["teams"]["web"]["owners"] == ["bob", "olivia"]
    assert "unknown user" in unchanged(st.add_members, s, "web", ["zed"], "member")
    assert "invalid role" in unchanged(st.add_members, s, "web", ["bob"], "admin")
    assert "does not exist" in unchanged(st.add_members, s, "nope", ["bob"], "member")
    assert "no owners" in unchanged(st.add_members, s, "dokku@admin", ["bob"], "owner")
    admins = st.add_members(s, "dokku@admin", ["bob"], "member")
    assert admins["teams"]["dokku@admin"]["members"] == ["bob"]
    # removal
    fewer = st.remove_members(new, "web", ["olivia"], "owner")
    assert fewer["teams"]["web"]["owners"] == ["bob"]
    assert st.remove_members(s, "web", ["bob"], "member") == s  # absent: no change
    assert unchanged(st.remove_members, fewer, "web", ["bob"], "owner") == "team web must keep at least one owner"
    assert unchanged(st.remove_members, new, "web", ["bob", "olivia"], "owner") == \
        "team web must keep at least one owner"
    # members may all go; owners stay
    assert st.remove_members(new, "web", ["alice", "bob"], "member")["teams"]["web"]["members"] == []
    # a team that never had an owner has no owner to keep
    ops = st.add_members(st.create_team(s, "ops"), "ops", ["bob"])
    assert st.remove_members(ops, "ops", ["bob"])["teams"]["ops"]["members"] == []


def test_grants():
    s = base()
    new = st.add_grants(s, "web", commands=["ps:*", "apps:list"], apps=["*"],
                        services=[("redis", "*"), "mysql:db", {"type": "*", "name": "*"}])
    team = new["teams"]["web"]
    assert team["commands"] == ["apps:list", "git-*", "ps:*"]
    assert team["apps"] == ["*", "web", "web-api"]
    assert team["services"] == [{"type": "*", "name": "*"}, {"type": "mysql", "name": "db"},
                                {"type": "postgres", "name": "web-db"}, {"type": "redis", "name": "*"}]
    assert s["teams"]["web"]["commands"] == ["apps:list", "git-*"]
    st.validate(new)
    # removal is literal
    less = st.remove_grants(new, "web", commands=["ps:restart", "git-*"], apps=["*"], services=["redis:x"])
    assert less["teams"]["web"]["commands"] == ["apps:list", "ps:*"]
    assert less["teams"]["web"]["apps"] == ["web", "web-api"]
    assert {"type": "redis", "name": "*"} in less["teams"]["web"]["services"]
    less = st.remove_grants(less, "web", services=[{"type": "redis", "name": "*"}])
    assert {"type": "redis", "name": "*"} not in less["teams"]["web"]["services"]


@pytest.mark.parametrize("kwargs,message", [
    ({"commands": ["rm -rf"]}, "invalid command"),
    ({"commands": ["Apps:list"]}, "invalid command"),
    ({"commands": "git-*\n"}, "invalid command"),
    ({"apps": ["Web"]}, "invalid app name"),
    ({"apps": ["web_1"]}, "invalid app name"),
    ({"apps": ["a" * 64]}, "invalid app name"),
    ({"apps": ["web*"]}, "invalid app name"),
    ({"services": [("*", "db")]}, "every type"),
    ({"services": [("Postgres", "db")]}, "invalid service type"),
    ({"services": [("postgres", "db.x")]}, "invalid service"),
    ({"services": ["postgres"]}, "TYPE:NAME"),
    ({"services": [("a", "b", "c")]}, "a type and a name"),
])
def test_bad_grants(kwargs, message):
    s = base()
    assert message in unchanged(st.add_grants, s, "web", **kwargs)


def test_special_teams_permissions_fixed():
    s = base()
    assert "cannot be changed" in unchanged(st.add_grants, s, "dokku@admin", commands=["*"])
    assert "cannot be changed" in unchanged(st.add_grants, s, "dokku@admin", apps=["web"])
    assert "cannot be changed" in unchanged(st.remove_grants, s, "dokku@admin", services=["redis:x"])
    assert "cannot be changed" in unchanged(st.set_team, s, "dokku@admin", commands=["*"])
    app = st.create_app_team(s, "shop", "alice")
    assert "app team" in unchanged(st.add_grants, app, "dokku@app--shop", apps=["web"])
    assert "app team" in unchanged(st.remove_grants, app, "dokku@app--shop", commands=["*"])
    with_db = st.add_grants(app, "dokku@app--shop", services=["redis:cache"])
    assert with_db["teams"]["dokku@app--shop"]["services"] == [{"type": "redis", "name": "cache"}]


def test_set_team():
    s = base()
    new = st.set_team(s, "api", owners=["bob"], members=["alice", "bob"], commands=["ps:*"], apps=["api"],
                      services=[{"type": "redis", "name": "q"}])
    assert new["teams"]["api"] == {"owners": ["bob"], "members": ["alice", "bob"], "commands": ["ps:*"],
                                   "apps": ["api"], "services": [{"type": "redis", "name": "q"}]}
    partial = st.set_team(new, "api", apps=["api", "api-2"])
    assert partial["teams"]["api"]["owners"] == ["bob"] and partial["teams"]["api"]["apps"] == ["api", "api-2"]
    cleared = st.set_team(new, "api", owners=[], commands=[])
    assert cleared["teams"]["api"]["owners"] == [] and cleared["teams"]["api"]["commands"] == []
    admins = st.set_team(s, "dokku@admin", members=["bob"])
    assert admins["teams"]["dokku@admin"]["members"] == ["bob"]
    assert "unknown user" in unchanged(st.set_team, s, "api", members=["zed"])
    assert "reserved" in unchanged(st.set_team, s, "dokku@new")
    assert "invalid app" in unchanged(st.set_team, s, "api", apps=["API"])
    assert "app team" in unchanged(st.set_team, st.create_app_team(s, "x", "bob"), "dokku@app--x", apps=["y"])
    st.validate(new)


# ---- apps


def test_create_app_team():
    s = base()
    new = st.create_app_team(s, "shop", "alice")
    assert new["teams"]["dokku@app--shop"] == {"owners": ["alice"], "members": ["alice"], "commands": ["*"],
                                               "apps": ["shop"], "services": []}
    st.validate(new)
    again = st.create_app_team(new, "shop", "bob")
    assert again["teams"]["dokku@app--shop"]["members"] == ["alice", "bob"]
    assert "invalid app name" in unchanged(st.create_app_team, s, "Shop", "alice")
    assert "unknown user" in unchanged(st.create_app_team, s, "shop", "zed")


def test_rename_app_grants_follow():
    s = st.create_app_team(base(), "web", "alice")
    s = st.set_team(s, "other", members=["bob"], apps=["web", "x"], commands=["ps:*"])
    new = st.rename_app(s, "web", "site")
    assert new["teams"]["web"]["apps"] == ["site", "web-api"]
    assert new["teams"]["other"]["apps"] == ["site", "x"]
    assert "dokku@app--web" not in new["teams"]
    assert new["teams"]["dokku@app--site"] == {"owners": ["alice"], "members": ["alice"], "commands": ["*"],
                                               "apps": ["site"], "services": []}
    assert s["teams"]["web"]["apps"] == ["web", "web-api"] and "dokku@app--web" in s["teams"]
    st.validate(new)
    assert "invalid app name" in unchanged(st.rename_app, s, "web", "Site")
    assert "old one" in unchanged(st.rename_app, s, "web", "web")


def test_rename_app_into_existing_app_team_merges():
    s = st.create_app_team(base(), "web", "alice")
    s = st.create_app_team(s, "site", "bob")
    new = st.rename_app(s, "web", "site")
    assert new["teams"]["dokku@app--site"]["members"] == ["alice", "bob"]
    assert "dokku@app--web" not in new["teams"]
    st.validate(new)


def test_clone_app_grants_follow():
    s = st.create_app_team(base(), "web", "alice")
    new = st.clone_app(s, "web", "web-copy")
    assert new["teams"]["web"]["apps"] == ["web", "web-api", "web-copy"]
    assert new["teams"]["dokku@app--web"]["apps"] == ["web"]
    assert new["teams"]["dokku@app--web-copy"]["apps"] == ["web-copy"]
    assert new["teams"]["dokku@app--web-copy"]["owners"] == ["alice"]
    assert "web-copy" not in s["teams"]["web"]["apps"]
    st.validate(new)
    # a wildcard grant is not a literal listing: it already covers the clone
    s2 = st.set_team(base(), "all", apps=["*"])
    assert st.clone_app(s2, "web", "web2")["teams"]["all"]["apps"] == ["*"]


def test_host_escape_grants():
    s = st.add_grants(base(), "web", commands=["docker-options:add", "storage:mount", "docker-options:*", "ps:*"])
    flagged = st.host_escape_grants(s)
    assert ("web", "docker-options:add") in flagged and ("web", "storage:mount") in flagged
    assert all(command not in ("docker-options:*", "ps:*") for unused_app, command in flagged)
    assert st.host_escape_grants(base()) == []


def test_fingerprints():
    s = base()
    assert st.fingerprints(s, "alice") == [sshkeys.parse_key(K["alice"]).fingerprint]


def _user_item(name, keys=None, state="present", exclusive=False, from_=None):
    blobs = None if keys is None else {sshkeys.parse_key(line).blob_b64: line for line in keys}
    return {"name": name, "state": state, "keys": blobs, "from": from_, "exclusive_keys": exclusive}


def _team_item(name, state="present", **fields):
    item = dict((field, None) for field in st.TEAM_FIELDS)
    item.update(fields, name=name, state=state)
    return item


def test_declare_users_removes_people_as_remove_user_does():
    s = base()
    purged = st.declare_users(s, [_user_item("alice"), _user_item("bob")], purge=True)
    assert st.validate(purged) == st.validate(st.remove_user(s, "olivia"))
    absent = st.declare_users(s, [_user_item("olivia", state="absent")])
    assert absent["teams"] == st.remove_user(s, "olivia")["teams"]
    assert st.validate(base()) == s  # the input is left as it was


def test_declare_users_keys_and_from():
    s = base()
    added = st.declare_users(s, [_user_item("carol", [K["carol"]], from_=["192.0.2.0/24"]),
                                 _user_item("bob", [K["root"]])])
    assert added["users"]["carol"] == {"keys": [K["carol"]], "from": ["192.0.2.0/24"]}
    assert added["users"]["bob"]["keys"] == sorted([K["bob"], K["root"]])
    exclusive = st.declare_users(s, [_user_item("bob", [K["root"]], exclusive=True)])
    assert exclusive["users"]["bob"]["keys"] == [K["root"]]
    with pytest.raises(Invalid, match="give keys to create it"):
        st.declare_users(s, [_user_item("carol")])
    with pytest.raises(Invalid, match="carol: keys.0.: key .* already belongs to user alice"):
        st.declare_users(s, [_user_item("carol", [K["alice"]])])


def test_declare_teams_sets_given_fields_and_purges():
    s = base()
    new = st.declare_teams(s, [_team_item("web", members=["bob"]), _team_item("ops", commands=["ps:*"])])
    assert new["teams"]["web"]["members"] == ["bob"] and new["teams"]["web"]["owners"] == ["olivia"]
    assert st.validate(new)["teams"]["ops"] == dict(st.validate(st.create_team(s, "ops"))["teams"]["ops"],
                                                    commands=["ps:*"])
    s = st.create_app_team(s, "shop", "alice")
    kept = st.declare_teams(s, [_team_item("ops")], purge=True)
    assert sorted(kept["teams"]) == ["dokku@admin", "dokku@app--shop", "ops"]
    assert "dokku@app--shop" not in st.declare_teams(s, [], purge=True, purge_app_teams=True)["teams"]
    for item, message in ((_team_item("dokku@admin", state="absent"), "cannot be destroyed: its members are"),
                          (_team_item("web", owners=["zed"]), "team web: owners: unknown user zed"),
                          (_team_item("dokku@app--x"), "reserved")):
        assert message in unchanged(st.declare_teams, s, [item])
    assert "cannot be destroyed: its members are" in unchanged(st.destroy_team, s, "dokku@admin")
