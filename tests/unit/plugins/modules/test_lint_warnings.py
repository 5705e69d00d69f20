# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Typos and renames: valid grants that cannot be what was meant are applied with a warning."""

from __future__ import annotations

import os

import pytest

from conftest import key_line, warnings_of


@pytest.fixture
def dokku(host):
    """A host whose Dokku has the apps shop-web and api (directories of the Dokku user's home)."""
    home = os.path.join(host.root, "dokku-home")
    for app in ("shop-web", "api", ".ssh", "TMP"):
        os.makedirs(os.path.join(home, app))
    with open(host.config, "a") as handle:
        handle.write("home=%s\n" % home)
    host.home = home
    host.run("dokku_ci_user", users=[{"name": "alice", "keys": [key_line(1)]}])
    return host


def warned(result):
    assert not result.get("failed"), result
    return " | ".join(warnings_of(result))


@pytest.mark.parametrize("module", ["dokku_team", "dokku_team_plan"])
def test_typos_in_commands_and_apps_are_applied_with_a_warning(dokku, module):
    team = dict(name="web", members=["alice"], commands=["ps:restrat", "docker-options:*", "git-*", "qqq:*"],
                apps=["shop-wbe", "api"])
    result = dokku.run(module, teams=[team])
    text = warned(result)
    assert "team web: the gate knows no command ps:restrat (did you mean ps:restart?)" in text
    assert "the glob docker-options:* does not grant the host-escape commands docker-options:add" in text
    assert "the glob qqq:* matches no command the gate knows" in text
    assert "git-*" not in text
    assert "team web: no app shop-wbe on this host (a typo" in text and "api" not in text.split("no app")[1]


def test_good_grants_and_a_dokku_without_apps_give_no_warning(dokku, tmp_path):
    team = dict(name="web", members=["alice"], commands=["ps:restart", "git-*", "teams:whoami", "docker:pull", "*"],
                apps=["shop-web", "*"])
    assert warned(dokku.run("dokku_team", teams=[team])) == ""
    for app in os.listdir(dokku.home):
        os.rmdir(os.path.join(dokku.home, app))
    assert warned(dokku.run("dokku_team", name="web", apps=["not-created-yet"])) == ""


def test_an_app_renamed_over_ssh_is_named_when_inventory_still_has_the_old_name(dokku):
    dokku.run("dokku_team", teams=[dict(name="web", members=["alice"], commands=["ps:*"], apps=["shop"])])
    # apps:rename shop shop-web through the gate: Dokku renames the directory, the grants follow
    from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
    from ansible_collections.dokku_ci.teams.plugins.module_utils.store import Store
    with Store(dokku.state_dir).transaction() as tx:
        tx.state = statelib.rename_app(tx.state, "shop", "shop-web")
    plan = dokku.run("dokku_team_plan", check=True, teams=[dict(name="web", apps=["shop"])])
    text = warned(plan)
    assert "team web: no app shop on this host, but the team's grant on the host names shop-web, which exists" in text
    assert "Write the new name in inventory" in text
    assert plan["teams"]["updated"] == ["web"]


def test_lint_false_is_quiet(dokku):
    result = dokku.run("dokku_team", name="web", commands=["ps:restrat"], apps=["shop-wbe"], lint=False)
    assert warned(result) == ""
