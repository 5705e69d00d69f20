#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dokku_team_plan
short_description: Check a complete users and teams declaration and preview it, writing nothing
description:
  - Applies O(users) (as M(dokku_ci.teams.dokku_ci_user) with O(users) does) and then O(teams)
    (as M(dokku_ci.teams.dokku_team) with O(teams) does) to a copy of the host's dokku-teams
    state, and reports what the two would change. Nothing is written, in check mode or not.
  - Every key, name, command, app, service and reference between teams and users is checked,
    and the purge guard of the two modules is applied, so a bad declaration fails here before
    anything on the host changes. The C(dokku_teams) role runs it first.
  - First, what only the whole declaration shows is reported in one message, every offender at
    once - names declared more than once, owners and members that are no declared user (with
    O(purge)) or a user the declaration marks absent.
  - The teams are compared against the users the declaration would leave, so check mode on a
    fresh host previews the teams too.
  - When the state cannot be read (a broken state the role would rebuild) the declaration is
    checked against an empty state and the module warns.
version_added: 0.2.0
author:
  - dokku_ci.teams contributors (@dokku-ci)
options:
  users:
    description: The users, as O(dokku_ci.teams.dokku_ci_user#module:users).
    default: []
  teams:
    description: The teams, as O(dokku_ci.teams.dokku_team#module:teams).
    default: []
  purge:
    description: Plan both calls with purge.
extends_documentation_fragment:
  - dokku_ci.teams.dokku_teams
  - dokku_ci.teams.dokku_teams.users
  - dokku_ci.teams.dokku_teams.teams
  - dokku_ci.teams.dokku_teams.removal
attributes:
  check_mode:
    support: full
    description: Writes nothing in either mode; in check mode C(changed) says whether the declaration would change the state.
  diff_mode:
    support: full
    description: Shows the users and teams that would change, before and after.
  platform:
    description: Runs on the Dokku host with Python 3; reads the state as root when there is one.
seealso:
  - module: dokku_ci.teams.dokku_ci_user
  - module: dokku_ci.teams.dokku_team
"""

EXAMPLES = r"""
- name: Check the whole declaration before anything changes
  dokku_ci.teams.dokku_team_plan:
    users: "{{ dokku_teams_users }}"
    teams: "{{ dokku_teams_teams }}"
    purge: true
"""

RETURN = r"""
users:
  description: The users the declaration would add, remove and update.
  returned: always
  type: dict
  sample: {added: [alice], removed: [], updated: [bob]}
teams:
  description: The teams the declaration would create, destroy and update.
  returned: always
  type: dict
  sample: {created: [web], destroyed: [], updated: ["dokku@admin"]}
state_usable:
  description: False when the host's state could not be read and an empty one was used.
  returned: always
  type: bool
  sample: true
"""

from ansible_collections.dokku_ci.teams.plugins.module_utils import lint
from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
from ansible_collections.dokku_ci.teams.plugins.module_utils.ansible_common import (
    Context, changes, new_module, normalise, run, section_diff)
from ansible_collections.dokku_ci.teams.plugins.module_utils.declare import (
    declaration_problems, declare_teams, declare_users, removal_options, team_declarations, team_list_options, user_declarations,
    user_list_options)
from ansible_collections.dokku_ci.teams.plugins.module_utils.errors import Invalid, StateError
from ansible_collections.dokku_ci.teams.plugins.module_utils.removal import check_share


def plan(current, params):
    """The state after the users call and then the teams call, each validated before its guard."""
    def settle(state):
        return normalise(state, current["serial"])

    problems = declaration_problems(params["users"], params["teams"], params["purge"])
    if problems:
        raise Invalid(problems)
    users = user_declarations(dict(params, name=None))
    teams = team_declarations(dict(params, name=None))
    return declare_teams(declare_users(current, users, params, settle), teams, params, settle)


def main():
    argument_spec = dict(user_list_options(), **team_list_options())
    argument_spec["users"]["default"] = []
    argument_spec["teams"]["default"] = []
    argument_spec.update(removal_options())
    module = new_module(argument_spec)

    def body():
        check_share(module.params["max_removal_share"])
        context = Context(module)
        usable = True
        try:
            current = context.snapshot()[0]
        except StateError as error:
            usable = False
            current = statelib.empty_state()
            module.warn("the dokku-teams state cannot be used (%s): the declaration was checked against an"
                        " empty state" % error.message)
        after = plan(current, module.params)
        if module.params["lint"]:
            for warning in lint.team_warnings(team_declarations(dict(module.params, name=None)), current,
                                              context.dokku_root()):
                module.warn(warning)
        added, removed, updated = changes(current, after, "users")
        created, destroyed, changed_teams = changes(current, after, "teams")
        result = dict(changed=module.check_mode and after != current, state_usable=usable,
                      users=dict(added=added, removed=removed, updated=updated),
                      teams=dict(created=created, destroyed=destroyed, updated=changed_teams))
        if module._diff:
            old_users, new_users = section_diff(current, after, "users")
            old_teams, new_teams = section_diff(current, after, "teams")
            result["diff"] = {"before": {"users": old_users, "teams": old_teams},
                              "after": {"users": new_users, "teams": new_teams}}
        module.exit_json(**result)

    run(module, body)


if __name__ == "__main__":
    main()
