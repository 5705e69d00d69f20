#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dokku_team
short_description: Manage Dokku Pro style teams enforced by the dokku-teams gate
description:
  - Creates, declares or destroys one team (O(name)) or many in one call (O(teams)) in the
    dokku-teams state.
  - A team has owners (they manage its people), members (they get its rights), commands (names or
    C(*) globs), apps (names or C(*)) and services (C(type)/C(name), either may be C(*)).
    A member may run a command only when one single team grants the command and every app and
    service it touches.
  - Each of O(owners), O(members), O(commands), O(apps) and O(services) that is given is the exact
    list; one that is omitted is left as it is (a new team starts with empty lists).
  - C(dokku@admin) (its members are the admins) may only have members. C(dokku@app--APP) teams are
    made through the gate when a user creates an app; their apps and commands are fixed.
  - Owners and members must be users declared with M(dokku_ci.teams.dokku_ci_user) first.
  - Host-escape commands (C(docker-options:*), C(storage:mount), ...) are granted only by their
    literal name and the module warns when a team gets one.
version_added: 0.1.0
author:
  - dokku_ci.teams contributors (@dokku-ci)
options:
  name:
    description:
      - The team (1-63 of V(a-z 0-9 _ -), starting with a letter or digit), or V(dokku@admin), or an
        existing V(dokku@app--APP) team. Mutually exclusive with O(teams).
    type: str
  state:
    description:
      - V(present) creates or updates the team; V(absent) destroys it (never V(dokku@admin)).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(teams), destroy every team the list does not name. V(dokku@admin) is never destroyed;
        V(dokku@app--APP) teams are kept unless O(purge_app_teams=true).
extends_documentation_fragment:
  - dokku_ci.teams.dokku_teams
  - dokku_ci.teams.dokku_teams.writes
  - dokku_ci.teams.dokku_teams.people
  - dokku_ci.teams.dokku_teams.grants
  - dokku_ci.teams.dokku_teams.teams
  - dokku_ci.teams.dokku_teams.removal
seealso:
  - module: dokku_ci.teams.dokku_ci_user
  - module: dokku_ci.teams.dokku_team_member
  - module: dokku_ci.teams.dokku_team_grant
  - module: dokku_ci.teams.dokku_team_info
"""

EXAMPLES = r"""
- name: Declare the web team completely
  dokku_ci.teams.dokku_team:
    name: web
    owners: [olivia]
    members: [alice]
    commands: ["git-*", "apps:list", "config:*", "ps:*", "logs"]
    apps: [web, web-api]
    services:
      - type: postgres
        name: web-db

- name: Make bob an admin
  dokku_ci.teams.dokku_team:
    name: dokku@admin
    members: [bob]

- name: Declare every team at once; destroy the ones not listed (app teams are kept)
  dokku_ci.teams.dokku_team:
    teams:
      - name: dokku@admin
        members: [bob]
      - name: web
        owners: [olivia]
        members: [alice]
        commands: ["git-*", "apps:list"]
        apps: [web]
      - name: deployers
        members: [alice, olivia]
        commands: ["git-receive-pack", "ps:restart"]
        apps: ["*"]
    purge: true

- name: Destroy a team
  dokku_ci.teams.dokku_team:
    name: deployers
    state: absent
"""

RETURN = r"""
team:
  description: The team after the change (V(null) when absent). Only with O(name).
  returned: when O(name) is given
  type: dict
  contains:
    name:
      description: The team's name.
      type: str
    owners:
      description: The owners.
      type: list
      elements: str
    members:
      description: The members.
      type: list
      elements: str
    commands:
      description: The commands granted.
      type: list
      elements: str
    apps:
      description: The apps granted.
      type: list
      elements: str
    services:
      description: The services granted, as C(type)/C(name).
      type: list
      elements: dict
  sample:
    name: web
    owners: [olivia]
    members: [alice]
    commands: ["apps:list", "git-*"]
    apps: [web]
    services: [{type: postgres, name: web-db}]
teams:
  description: The names of every team after the change.
  returned: always
  type: list
  elements: str
  sample: ["dokku@admin", web]
created:
  description: Teams created.
  returned: always
  type: list
  elements: str
  sample: [web]
destroyed:
  description: Teams destroyed.
  returned: always
  type: list
  elements: str
  sample: [deployers]
updated:
  description: Teams whose people or grants changed.
  returned: always
  type: list
  elements: str
  sample: ["dokku@admin"]
host_escape_grants:
  description: Every team that is granted a host-escape command, and the command (the whole state).
  returned: always
  type: list
  elements: dict
  sample: [{team: ops, command: "storage:mount"}]
"""

from ansible_collections.dokku_ci.teams.plugins.module_utils import lint
from ansible_collections.dokku_ci.teams.plugins.module_utils.ansible_common import (
    Context, changes, finish, host_escape_warnings, new_module, run, team_record)
from ansible_collections.dokku_ci.teams.plugins.module_utils.declare import (
    PRESENCE, declare_teams, removal_options, team_declarations, team_field_options, team_list_options)
from ansible_collections.dokku_ci.teams.plugins.module_utils.removal import check_share
from ansible_collections.dokku_ci.teams.plugins.module_utils.state import TEAM_FIELDS


def main():
    argument_spec = dict(name=dict(type="str"), state=dict(PRESENCE))
    for options in (team_field_options(), team_list_options(), removal_options()):
        argument_spec.update(options)
    module = new_module(argument_spec, required_one_of=[("name", "teams")],
                        mutually_exclusive=[("name", "teams")] + [(field, "teams") for field in TEAM_FIELDS])
    params = module.params
    if params["purge"] and params["teams"] is None:
        module.fail_json(msg="purge only goes with teams (the complete list of teams)")

    def body():
        items = team_declarations(params)
        context = Context(module)
        check_share(params["max_removal_share"])
        changed, before, after = context.apply(lambda current: declare_teams(current, items, params))
        created, destroyed, updated = changes(before, after, "teams")
        if params["lint"]:
            for warning in lint.team_warnings(items, before, context.dokku_root()):
                module.warn(warning)
        flagged = host_escape_warnings(module, after, set(item["name"] for item in items if item["commands"]))
        result = dict(changed=changed, teams=sorted(after["teams"]), created=created, destroyed=destroyed,
                      updated=updated, host_escape_grants=flagged)
        if params["name"] is not None:
            result["team"] = team_record(after, params["name"])
        finish(module, result, before, after)

    run(module, body)


if __name__ == "__main__":
    main()
