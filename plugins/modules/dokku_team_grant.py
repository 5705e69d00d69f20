#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dokku_team_grant
short_description: Grant or revoke commands, apps and services of a dokku-teams team
description:
  - Adds commands, apps or services to an existing team of the dokku-teams state, or removes them.
  - Commands are names (V(apps:list), V(git-receive-pack)) or globs where C(*) matches any run of
    characters (V(git-*), V(config:*), V(*)). Removal is literal - removing V(apps:list) leaves
    V(apps:*) alone.
  - Host-escape commands (C(docker-options:*), C(storage:mount), ...) are never matched by a glob;
    granting one by name makes the module warn.
  - V(dokku@admin) has no grants (its members may do anything); a V(dokku@app--APP) team only takes services.
version_added: 0.1.0
author:
  - dokku_ci.teams contributors (@dokku-ci)
options:
  team:
    description: The team (it must exist).
    type: str
    required: true
  state:
    description: V(present) grants, V(absent) revokes.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), each of O(commands), O(apps) and O(services) that is given becomes the
        team's complete list of that kind (the others are revoked); an option that is omitted is left alone.
    type: bool
    default: false
extends_documentation_fragment:
  - dokku_ci.teams.dokku_teams
  - dokku_ci.teams.dokku_teams.writes
  - dokku_ci.teams.dokku_teams.grants
seealso:
  - module: dokku_ci.teams.dokku_team
  - module: dokku_ci.teams.dokku_team_member
"""

EXAMPLES = r"""
- name: Let the web team deploy and configure its apps
  dokku_ci.teams.dokku_team_grant:
    team: web
    commands: ["git-*", "config:*", "ps:restart"]
    apps: [web, web-api]
    services:
      - type: postgres
        name: web-db

- name: The web team may touch exactly these apps
  dokku_ci.teams.dokku_team_grant:
    team: web
    apps: [web]
    exclusive: true

- name: Revoke a command
  dokku_ci.teams.dokku_team_grant:
    team: web
    commands: ["ps:restart"]
    state: absent
"""

RETURN = r"""
team:
  description: The team after the change, with the fields of RV(dokku_ci.teams.dokku_team#module:team).
  returned: success
  type: dict
  sample: {name: web, owners: [olivia], members: [alice], commands: ["config:*", "git-*"], apps: [web],
           services: [{type: postgres, name: web-db}]}
host_escape_commands:
  description: The host-escape commands the team is granted after the change.
  returned: success
  type: list
  elements: str
  sample: ["storage:mount"]
"""

from ansible_collections.dokku_ci.teams.plugins.module_utils import names
from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
from ansible_collections.dokku_ci.teams.plugins.module_utils.ansible_common import (
    Context, existing_team, finish, host_escape_warnings, new_module, run, team_record)
from ansible_collections.dokku_ci.teams.plugins.module_utils.declare import PRESENCE, team_field_options


def apply_grants(current, team, commands, apps, services, state, exclusive):
    existing_team(current, team)
    if state == "absent":
        return statelib.remove_grants(current, team, commands or (), apps or (), services or ())
    if exclusive:
        return statelib.set_team(current, team, commands=commands, apps=apps, services=services)
    return statelib.add_grants(current, team, commands or (), apps or (), services or ())


def main():
    grants = team_field_options()
    argument_spec = dict(team=dict(type="str", required=True), commands=grants["commands"], apps=grants["apps"],
                         services=grants["services"], state=dict(PRESENCE), exclusive=dict(type="bool", default=False))
    module = new_module(argument_spec, required_one_of=[("commands", "apps", "services")])
    params = module.params

    def body():
        team = names.check_team(params["team"])
        services = None
        if params["services"] is not None:
            services = [{"type": item["type"], "name": item["name"]} for item in params["services"]]
        changed, before, after = Context(module).apply(
            lambda current: apply_grants(current, team, params["commands"], params["apps"], services,
                                         params["state"], params["exclusive"]))
        warn_for = set([team]) if params["commands"] and params["state"] == "present" else set()
        flagged = host_escape_warnings(module, after, warn_for)
        finish(module, dict(changed=changed, team=team_record(after, team),
                            host_escape_commands=sorted(item["command"] for item in flagged if item["team"] == team)),
               before, after)

    run(module, body)


if __name__ == "__main__":
    main()
