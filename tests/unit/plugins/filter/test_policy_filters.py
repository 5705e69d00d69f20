# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters dokku_ci.teams.who_can, who_can_deploy and policy_query, in-process and through a
real ansible-playbook run (the collection's plugin loader and Jinja2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from ansible.module_utils import _internal as module_utils_internal

from conftest import COLLECTIONS_PATH, key_line

_WAS_CONTROLLER = module_utils_internal.is_controller
from ansible.errors import AnsibleFilterError  # noqa: E402
from ansible_collections.dokku_ci.teams.plugins.filter import policy as filters  # noqa: E402

# Importing controller code (ansible.errors) marks the whole process as the controller, and a
# module's warn() then prints instead of returning its warnings: the module tests that share
# this pytest process read warnings from results.
module_utils_internal.is_controller = _WAS_CONTROLLER


def _team(owners=(), members=(), commands=(), apps=(), services=()):
    return {"owners": list(owners), "members": list(members), "commands": list(commands),
            "apps": list(apps), "services": list(services)}


@pytest.fixture
def document():
    names = ["root-admin", "olivia", "alice", "bob", "oscar", "deploy-bot"]
    return {
        "version": 1,
        "users": dict((name, {"keys": [key_line(number)], "from": []}) for number, name in enumerate(names)),
        "teams": {
            "dokku@admin": _team(members=["root-admin"]),
            "web": _team(owners=["olivia"], members=["alice"], commands=["git-*", "apps:list", "config:*"],
                         apps=["web", "web-api"], services=[{"type": "postgres", "name": "web-db"}]),
            "ops": _team(owners=["oscar"], members=["oscar"], commands=["apps:list", "ps:*", "logs"], apps=["*"]),
            "web-deploy": _team(owners=["olivia"], members=["deploy-bot"],
                                commands=["git-receive-pack", "docker:pull"], apps=["web"]),
        },
    }


def test_who_can_deploy_is_admins_and_teams_granting_git_push_on_the_app(document):
    assert filters.who_can_deploy(document, "web") == ["alice", "deploy-bot", "root-admin"]
    assert filters.who_can_deploy(document, "web-api") == ["alice", "root-admin"]
    # ops holds every app but no git command; olivia owns web but is no member of it.
    assert filters.who_can_deploy(document, "billing") == ["root-admin"]


def test_who_can_is_the_gates_decision(document):
    assert filters.who_can(document, "ps:restart billing") == ["oscar", "root-admin"]
    assert filters.who_can(document, "config:set web A=1") == ["alice", "root-admin"]
    # One single team must grant the command and every app: teams never combine.
    document["teams"]["billing-ops"] = _team(members=["alice"], commands=["ps:*"], apps=["billing"])
    assert filters.who_can(document, "ps:restart billing") == ["alice", "oscar", "root-admin"]
    assert filters.who_can(document, "ps:restart web") == ["oscar", "root-admin"]


def test_host_escapes_are_never_granted_by_a_glob(document):
    document["teams"]["ops"]["commands"].append("storage:*")
    assert filters.who_can(document, "storage:mount web /srv:/data") == ["root-admin"]


def test_who_can_refuses_malformed_commands_and_bad_documents(document):
    with pytest.raises(AnsibleFilterError, match="malformed command"):
        filters.who_can(document, "ps:restart web;reboot")
    with pytest.raises(AnsibleFilterError, match="non-empty"):
        filters.who_can(document, "  ")
    with pytest.raises(AnsibleFilterError, match="expects the policy document"):
        filters.who_can({"document": document}, "ps:restart web")
    document["teams"]["web"]["members"] = ["nobody-declared"]
    with pytest.raises(AnsibleFilterError, match="not a valid policy document"):
        filters.who_can_deploy(document, "web")
    with pytest.raises(AnsibleFilterError, match="expects an app name"):
        filters.who_can_deploy(document, "web' 'x")


def test_policy_query_sees_named_records(document):
    assert filters.policy_query(document, "teams[?contains(apps, 'web')].name") == ["web", "web-deploy"]
    assert filters.policy_query(document, "teams[?contains(members, 'alice')].name") == ["web"]
    assert filters.policy_query(document, "teams[?admin].members[]") == ["root-admin"]
    assert filters.policy_query(document, "teams[?services[?type == 'postgres']].name") == ["web"]
    assert filters.policy_query(document, "length(users)") == 6
    # The input is not changed (the records are built on a copy).
    assert "name" not in document["teams"]["web"]


def test_policy_query_reports_bad_expressions_and_a_missing_jmespath(document, monkeypatch):
    with pytest.raises(AnsibleFilterError, match="policy_query: "):
        filters.policy_query(document, "teams[?")
    monkeypatch.setattr(filters, "jmespath", None)
    with pytest.raises(AnsibleFilterError, match="needs the jmespath library"):
        filters.policy_query(document, "teams")


def test_filters_through_ansible_playbook(document, tmp_path):
    playbook = tmp_path / "play.yml"
    (tmp_path / "doc.json").write_text(json.dumps(document))
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  vars:
    doc: "{{ lookup('ansible.builtin.file', playbook_dir ~ '/doc.json') | from_json }}"
  tasks:
    - ansible.builtin.copy:
        dest: "{{ playbook_dir }}/out.json"
        mode: "0600"
        content:
          deploy: "{{ doc | dokku_ci.teams.who_can_deploy('web') }}"
          restart: "{{ doc | dokku_ci.teams.who_can('ps:restart web') }}"
          teams: "{{ doc | dokku_ci.teams.policy_query('teams[?contains(apps, `\\"*\\"`)].name') }}"
""")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {
        "deploy": ["alice", "deploy-bot", "root-admin"], "restart": ["oscar", "root-admin"], "teams": ["ops"]}
