#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dokku_team_member
short_description: Add or remove the members or owners of a dokku-teams team
description:
  - Adds users to, or removes them from, one role of an existing team in the dokku-teams state.
  - Members get the team's rights; owners manage the team's owners and members and get no rights
    unless they are members too.
  - A team that has owners keeps at least one (removing the last owner is refused); with
    O(exclusive=true) the list is an admin's declaration and may be empty.
  - The users must exist (M(dokku_ci.teams.dokku_ci_user)); the team must exist (M(dokku_ci.teams.dokku_team)).
version_added: 0.1.0
author:
  - dokku_ci.teams contributors (@dokku-ci)
options:
  team:
    description: The team (V(dokku@admin) makes admins; it has no owners).
    type: str
    required: true
  users:
    description: The users to add or remove.
    type: list
    elements: str
    required: true
  role:
    description: Which role O(users) are added to or removed from.
    type: str
    choices: [member, owner]
    default: member
  state:
    description: V(present) adds O(users) to the role, V(absent) removes them from it.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), O(users) is the complete list of the role (everyone else is removed from it).
    type: bool
    default: false
extends_documentation_fragment:
  - dokku_ci.teams.dokku_teams
  - dokku_ci.teams.dokku_teams.writes
seealso:
  - module: dokku_ci.teams.dokku_team
  - module: dokku_ci.teams.dokku_team_grant
"""

EXAMPLES = r"""
- name: Add alice and bob to the members of web
  dokku_ci.teams.dokku_team_member:
    team: web
    users: [alice, bob]

- name: Make olivia the only owner of web
  dokku_ci.teams.dokku_team_member:
    team: web
    users: [olivia]
    role: owner
    exclusive: true

- name: Take bob out of web
  dokku_ci.teams.dokku_team_member:
    team: web
    users: [bob]
    state: absent
"""

RETURN = r"""
team:
  description: The team after the change, with the fields of RV(dokku_ci.teams.dokku_team#module:team).
  returned: success
  type: dict
  sample: {name: web, owners: [olivia], members: [alice], commands: ["git-*"], apps: [web], services: []}
added:
  description: Users added to the role.
  returned: success
  type: list
  elements: str
  sample: [alice]
removed:
  description: Users removed from the role.
  returned: success
  type: list
  elements: str
  sample: [bob]
"""

from ansible_collections.dokku_ci.teams.plugins.module_utils import names
from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
from ansible_collections.dokku_ci.teams.plugins.module_utils.ansible_common import (
    Context, existing_team, finish, new_module, run, team_record)
from ansible_collections.dokku_ci.teams.plugins.module_utils.declare import PRESENCE
from ansible_collections.dokku_ci.teams.plugins.module_utils.errors import Invalid


def apply_members(current, team, users, role, state, exclusive):
    existing_team(current, team)
    if state == "present":
        unknown = sorted(set(user for user in users if user not in current["users"]))
        if unknown:
            raise Invalid("unknown user %s: declare users with dokku_ci.teams.dokku_ci_user before adding them"
                          " to a team" % ", ".join(unknown))
        if exclusive:
            return statelib.set_team(current, team, **{role + "s": users})
        return statelib.add_members(current, team, users, role)
    return statelib.remove_members(current, team, users, role)


def main():
    module = new_module(dict(
        team=dict(type="str", required=True),
        users=dict(type="list", elements="str", required=True),
        role=dict(type="str", choices=["member", "owner"], default="member"),
        state=dict(PRESENCE),
        exclusive=dict(type="bool", default=False),
    ))
    params = module.params

    def body():
        team = names.check_team(params["team"])
        for user in params["users"]:
            names.check_user(user)
        field = params["role"] + "s"
        changed, before, after = Context(module).apply(
            lambda current: apply_members(current, team, params["users"], params["role"], params["state"],
                                          params["exclusive"]))
        old = set(before["teams"].get(team, {}).get(field, ()))
        new = set(after["teams"][team][field])
        finish(module, dict(changed=changed, team=team_record(after, team), added=sorted(new - old),
                            removed=sorted(old - new)), before, after)

    run(module, body)


if __name__ == "__main__":
    main()
