# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dokku_team: one team or many, exact declarations, purge."""

from __future__ import annotations

import json
import os

import pytest

from conftest import Host, assert_refused, key_line, warnings_of

MODULE = "dokku_team"
PEOPLE = ["alice", "bob", "olivia", "carol"]


@pytest.fixture
def people(host):
    host.run("dokku_ci_user", users=[{"name": name, "keys": [key_line(index)]} for index, name in enumerate(PEOPLE)])
    return host


WEB = dict(name="web", owners=["olivia"], members=["alice"], commands=["git-*", "apps:list", "config:*"],
           apps=["web", "web-api"], services=[{"type": "postgres", "name": "web-db"}])


def test_create_then_noop(people):
    result = people.run(MODULE, **WEB)
    assert result["changed"] and result["created"] == ["web"]
    assert result["team"] == {"name": "web", "owners": ["olivia"], "members": ["alice"],
                              "commands": ["apps:list", "config:*", "git-*"], "apps": ["web", "web-api"],
                              "services": [{"type": "postgres", "name": "web-db"}]}
    assert people.state()["teams"]["web"]["commands"] == ["apps:list", "config:*", "git-*"]
    again = people.run(MODULE, **WEB)
    assert again["changed"] is False and again["created"] == again["updated"] == []


def test_given_lists_are_exact_omitted_ones_kept(people):
    people.run(MODULE, **WEB)
    result = people.run(MODULE, name="web", members=["bob"], apps=[])
    assert result["changed"] and result["updated"] == ["web"]
    team = people.state()["teams"]["web"]
    assert team["members"] == ["bob"] and team["apps"] == []
    assert team["owners"] == ["olivia"] and team["commands"] == ["apps:list", "config:*", "git-*"]
    bare = people.run(MODULE, name="web")
    assert bare["changed"] is False


def test_destroy(people):
    people.run(MODULE, **WEB)
    result = people.run(MODULE, name="web", state="absent", diff=True)
    assert result["changed"] and result["destroyed"] == ["web"] and result["team"] is None
    assert "web" not in people.state()["teams"]
    assert result["diff"]["after"] == {"teams": {}}
    assert result["diff"]["before"]["teams"]["web"]["members"] == ["alice"]
    assert people.run(MODULE, name="web", state="absent")["changed"] is False


def test_admin_team(people):
    result = people.run(MODULE, name="dokku@admin", members=["bob"])
    assert result["changed"] and people.state()["teams"]["dokku@admin"]["members"] == ["bob"]
    refused = people.run(MODULE, name="dokku@admin", commands=["*"])
    assert refused.get("failed") and "cannot be changed" in refused["msg"]
    refused = people.run(MODULE, name="dokku@admin", state="absent")
    assert refused.get("failed") and "cannot be destroyed" in refused["msg"]


def test_check_mode_writes_nothing(people):
    people.run(MODULE, **WEB)
    before = people.snapshot()
    for args in (dict(name="ops", members=["bob"]), dict(name="web", state="absent"),
                 dict(name="web", members=["carol"]),
                 dict(teams=[{"name": "x"}], purge=True, allow_mass_removal=True)):
        result = people.run(MODULE, check=True, diff=True, **args)
        assert result["changed"] is True, args
    assert people.snapshot() == before


def test_diff_shows_only_the_changed_team(people):
    people.run(MODULE, teams=[WEB, dict(name="ops", members=["bob"])])
    result = people.run(MODULE, diff=True, name="web", members=["alice", "carol"])
    assert result["diff"]["before"] == {"teams": {"web": json.loads(json.dumps(
        dict(people.run("dokku_team_info")["document"]["teams"]["web"], members=["alice"])))}}
    assert set(result["diff"]["after"]["teams"]) == {"web"}
    assert result["diff"]["after"]["teams"]["web"]["members"] == ["alice", "carol"]


def test_bad_input_writes_nothing(people):
    people.run(MODULE, **WEB)
    cases = [
        (dict(name="Web"), "invalid team name"),
        (dict(name="dokku@mine"), "reserved"),
        (dict(name="web", members=["zed"]), "unknown user zed"),
        (dict(name="web", owners=["zed", "yan"]), "unknown user yan, zed"),
        (dict(name="web", commands=["rm -rf"]), "invalid command"),
        (dict(name="web", apps=["Web"]), "invalid app"),
        (dict(name="web", services=[{"type": "post gres", "name": "x"}]), "invalid service type"),
        (dict(name="web", services=[{"type": "*", "name": "x"}]), "every service"),
        (dict(teams=[{"name": "a"}, {"name": "a"}]), "declared twice"),
        (dict(teams=[{"name": "a", "members": ["alice"]}, {"name": "b", "members": ["zed"]}]), "unknown user zed"),
        (dict(name="web", purge=True), "purge only goes with teams"),
        (dict(name="dokku@app--web", members=["alice"]), "reserved"),
    ]
    assert_refused(people, MODULE, cases)


def test_host_escape_is_flagged(people):
    result = people.run(MODULE, name="ops", members=["bob"], commands=["storage:mount", "ps:*"])
    assert result["host_escape_grants"] == [{"team": "ops", "command": "storage:mount"}]
    assert any("host-escape command storage:mount" in warning for warning in warnings_of(result))


def test_list_form_and_purge_keeps_admin_and_app_teams(people):
    people.run(MODULE, teams=[WEB, dict(name="ops", members=["bob"]), dict(name="dokku@admin", members=["carol"])])
    # an app team made over SSH (through the engine, as the gate does)
    from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
    from ansible_collections.dokku_ci.teams.plugins.module_utils.store import Store
    store = Store(people.state_dir)
    with store.transaction() as tx:
        tx.state = statelib.create_app_team(tx.state, "shop", "alice")
    result = people.run(MODULE, teams=[WEB], purge=True)
    assert result["destroyed"] == ["ops"]
    assert sorted(people.state()["teams"]) == ["dokku@admin", "dokku@app--shop", "web"]
    assert people.state()["teams"]["dokku@admin"]["members"] == ["carol"]
    assert people.run(MODULE, teams=[WEB], purge=True)["changed"] is False
    # an app team may be declared (services), and is purged only on request
    declared = people.run(MODULE, teams=[WEB, dict(name="dokku@app--shop", services=[{"type": "redis", "name": "c"}])],
                          purge=True)
    assert declared["updated"] == ["dokku@app--shop"]
    gone = people.run(MODULE, teams=[WEB], purge=True, purge_app_teams=True)
    assert gone["destroyed"] == ["dokku@app--shop"]
    assert sorted(people.state()["teams"]) == ["dokku@admin", "web"]


def test_many_teams_one_call(people):
    teams = [dict(name="t%03d" % index, members=["alice"], commands=["git-*"], apps=["app%d" % index])
             for index in range(50)]
    result = people.run(MODULE, teams=teams)
    assert len(result["created"]) == 50
    assert people.run(MODULE, teams=teams)["changed"] is False
    view = json.load(open(os.path.join(people.state_dir, "views", "alice.json")))
    assert len(view["teams"]) == 50


def test_single_and_list_forms_give_identical_states(tmp_path):
    declaration = [WEB, dict(name="ops", owners=["bob"], members=["bob", "carol"], commands=["ps:*"], apps=["*"]),
                   dict(name="dokku@admin", members=["carol"]), dict(name="tmp", state="absent")]
    hosts = []
    for label in ("one", "many"):
        (tmp_path / label).mkdir()
        host = Host(tmp_path / label)
        host.run("dokku_ci_user", users=[{"name": name, "keys": [key_line(index)]} for index, name in enumerate(PEOPLE)])
        host.run(MODULE, name="tmp", members=["alice"])
        hosts.append(host)
    one, many = hosts
    for item in declaration:
        assert not one.run(MODULE, **item).get("failed")
    assert not many.run(MODULE, teams=declaration).get("failed")
    assert one.state()["teams"] == many.state()["teams"]
