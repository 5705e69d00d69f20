# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's RETURN against real results: each key a run returns is documented, each
documented key is returned, and each sample has the shape (keys, types) of a real value.

The runs use the names of the samples, so a sample that names teams or users as keys
(``document``, ``rights``) is compared key for key; a sample the code cannot produce fails.
"""

from __future__ import annotations

import importlib

import pytest
import yaml

from conftest import PREFIX, run_module

# What Ansible adds to every result, not the module's own return values.
COMMON = {"changed", "diff", "warnings", "deprecations", "invocation", "failed", "msg"}
# The example keys the docs use (well-formed ed25519 keys: the samples' fingerprints are theirs).
EXAMPLE_KEY = {
    "alice": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRva2t1LWNpLXRlYW1zIGV4YW1wbGUga2V5IDAxLi4u alice@laptop",
    "bob": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRva2t1LWNpLXRlYW1zIGV4YW1wbGUga2V5IDAyLi4u bob@desk",
    "olivia": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRva2t1LWNpLXRlYW1zIGV4YW1wbGUga2V5IDAzLi4u olivia@home",
}
WEB = dict(name="web", owners=["olivia"], members=["alice"], commands=["git-*", "apps:list"], apps=["web"],
           services=[{"type": "postgres", "name": "web-db"}])


def _users(host, *names):
    return host.run("dokku_ci_user", users=[{"name": name, "keys": [EXAMPLE_KEY[name]]} for name in names])


def _runs_ci_user(host):
    yield host.run("dokku_ci_user", check=True, diff=True, name="alice", keys=[EXAMPLE_KEY["alice"]])
    yield host.run("dokku_ci_user", name="alice", keys=[EXAMPLE_KEY["alice"]])
    yield host.run("dokku_ci_user", users=[{"name": "alice"}, {"name": "bob", "keys": [EXAMPLE_KEY["bob"]]},
                                           {"name": "olivia", "keys": [EXAMPLE_KEY["olivia"]]}])
    yield host.run("dokku_ci_user", users=[{"name": "alice"}, {"name": "bob", "from": ["192.0.2.0/24"]}],
                   purge=True, allow_mass_removal=True)
    yield host.run("dokku_ci_user", name="alice", state="absent")


def _runs_team(host):
    _users(host, "alice", "bob", "olivia")
    yield host.run("dokku_team", check=True, diff=True, **WEB)
    yield host.run("dokku_team", **WEB)
    yield host.run("dokku_team", teams=[WEB, {"name": "dokku@admin", "members": ["bob"]},
                                        {"name": "deployers", "members": ["alice"]},
                                        {"name": "ops", "commands": ["storage:mount"]}])
    yield host.run("dokku_team", teams=[dict(WEB, members=["alice", "bob"]), {"name": "dokku@admin"}],
                   purge=True, allow_mass_removal=True)
    yield host.run("dokku_team", name="web", state="absent")


def _runs_grant(host):
    _users(host, "alice", "olivia")
    host.run("dokku_team", **dict(WEB, commands=["git-*"], services=[]))
    yield host.run("dokku_team_grant", check=True, team="web", commands=["config:*"],
                   services=[{"type": "postgres", "name": "web-db"}])
    yield host.run("dokku_team_grant", team="web", commands=["config:*", "storage:mount"],
                   services=[{"type": "postgres", "name": "web-db"}])


def _runs_member(host):
    _users(host, "alice", "bob", "olivia")
    host.run("dokku_team", **dict(WEB, members=["bob"], commands=["git-*"], services=[]))
    yield host.run("dokku_team_member", check=True, team="web", users=["alice"])
    yield host.run("dokku_team_member", team="web", users=["alice"], exclusive=True)


def _runs_info(host):
    _users(host, "alice")
    host.run("dokku_team", teams=[dict(WEB, owners=[], commands=["git-*", "ps:*"], services=[])])
    yield host.run("dokku_team_info")
    yield host.run("dokku_team_info", user="alice")
    yield host.run("dokku_team_info", user="alice", command="ps:restart web")
    yield host.run("dokku_team_info", user="alice", command="ps:restart other")
    yield host.run("dokku_team_info", who_can=dict(app="web", command="ps:restart"))


def _runs_plan(host):
    _users(host, "bob")
    host.run("dokku_team", name="dokku@admin", members=["bob"])
    users = [{"name": "alice", "keys": [EXAMPLE_KEY["alice"]]}, {"name": "bob", "from": ["192.0.2.0/24"]},
             {"name": "olivia", "keys": [EXAMPLE_KEY["olivia"]]}]
    yield host.run("dokku_team_plan", check=True, diff=True, users=users, teams=[WEB])
    yield host.run("dokku_team_plan", users=users, teams=[WEB, {"name": "dokku@admin", "members": ["bob"]}])


def _runs_install(host):
    items = [{"kind": "dir", "path": host.root + "/etc/dokku-teams", "mode": "0755", "phase": "config"},
             {"kind": "file", "path": host.root + "/etc/dokku-teams/gate.conf", "content": "ci_user=ci\n",
              "phase": "config"}]
    # (it takes no state or config: run without the host's gate config)
    for check in (True, False, False):
        yield run_module("dokku_teams_install", {"items": items, "_ansible_check_mode": check, "_ansible_diff": check})


RUNS = {"dokku_teams_install": _runs_install, "dokku_ci_user": _runs_ci_user, "dokku_team": _runs_team, "dokku_team_grant": _runs_grant,
        "dokku_team_member": _runs_member, "dokku_team_info": _runs_info, "dokku_team_plan": _runs_plan}


def fits(sample, real):
    """Whether ``sample`` has the shape of ``real``: the same keys, lists of the same shapes,
    scalars of the same type (an empty list fits any list)."""
    if isinstance(sample, dict):
        return isinstance(real, dict) and set(sample) == set(real) and all(fits(sample[key], real[key])
                                                                           for key in sample)
    if isinstance(sample, list):
        return isinstance(real, list) and all(fits(item, other) for item in sample for other in real)
    return type(sample) is type(real)


def _fields(entry):
    """The keys a documented value has (``contains``), or None for a value without fields."""
    return set(entry["contains"]) if "contains" in entry and entry["type"] == "dict" else None


@pytest.mark.parametrize("module", sorted(RUNS))
def test_return_samples_match_real_results(host, module):
    documented = yaml.safe_load(importlib.import_module(PREFIX + module).RETURN)
    results = list(RUNS[module](host))
    for result in results:
        assert not result.get("failed"), result
        assert set(result) - COMMON <= set(documented), (module, sorted(set(result) - COMMON - set(documented)))
    for key, entry in documented.items():
        values = [result[key] for result in results if result.get(key) is not None]
        assert values, "%s: no run returns %s" % (module, key)
        if entry["returned"] == "always":
            assert all(key in result for result in results), (module, key)
        assert any(fits(entry["sample"], value) for value in values), (module, key, entry["sample"], values)
        fields = _fields(entry)
        if fields is not None:
            assert set(entry["sample"]) == fields, (module, key)
            assert any(set(value) == fields for value in values), (module, key, values)


def test_decision_sample_is_what_the_gate_decides(host):
    """The decision sample word for word, reason included, for the sample's user and command."""
    sample = yaml.safe_load(importlib.import_module(PREFIX + "dokku_team_info").RETURN)["decision"]["sample"]
    _users(host, "alice")
    host.run("dokku_team", name="web", members=["alice"], commands=["ps:*"], apps=["web"])
    result = host.run("dokku_team_info", user="alice", command=" ".join([sample["command"]] + sample["apps"]))
    assert result["decision"] == sample
    assert result["exit_code"] == 0


def test_team_sample_is_a_real_team(host):
    sample = yaml.safe_load(importlib.import_module(PREFIX + "dokku_team").RETURN)["team"]["sample"]
    _users(host, "alice", "olivia")
    assert host.run("dokku_team", **sample)["team"] == sample


def test_user_sample_is_a_real_user(host):
    sample = yaml.safe_load(importlib.import_module(PREFIX + "dokku_ci_user").RETURN)["user"]["sample"]
    assert host.run("dokku_ci_user", name=sample["name"], keys=sample["keys"])["user"] == sample
