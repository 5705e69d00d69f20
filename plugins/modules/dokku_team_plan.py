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
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The user's name.
        type: str
        required: true
      keys:
        description: SSH public keys, one line each.
        type: list
        elements: str
      from:
        description: Where the user may log in from.
        type: list
        elements: str
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      exclusive_keys:
        description: Whether O(users[].keys) is the user's complete list; defaults to O(exclusive_keys).
        type: bool
  teams:
    description: The teams, as O(dokku_ci.teams.dokku_team#module:teams).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The team.
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      owners:
        description: The team's owners (exact list when given).
        type: list
        elements: str
      members:
        description: The team's members (exact list when given).
        type: list
        elements: str
      commands:
        description: Commands the members may run (exact list when given).
        type: list
        elements: str
      apps:
        description: Apps the members may touch (exact list when given).
        type: list
        elements: str
      services:
        description: Services the members may touch (exact list when given).
        type: list
        elements: dict
        suboptions:
          type:
            description: The service type or V(*).
            type: str
            required: true
          name:
            description: The service name or V(*).
            type: str
            required: true
  exclusive_keys:
    description: As O(dokku_ci.teams.dokku_ci_user#module:exclusive_keys).
    type: bool
    default: false
  purge:
    description: Plan both calls with purge.
    type: bool
    default: false
  purge_app_teams:
    description: As O(dokku_ci.teams.dokku_team#module:purge_app_teams).
    type: bool
    default: false
  lint:
    description:
      - Warn about grants that are valid but cannot be what was meant - a command the gate does not
        know (C(ps:restrat)), a glob that matches none or that seems to cover host-escape commands
        it never grants (C(docker-options:*)), and an app that does not exist on the host
        (C(shop-wbe)), or whose grant on the host now names another, existing app (renamed with
        C(apps:rename), which the grants follow). Apps are looked up in the Dokku user's home
        (C(home) of O(config)); with no apps there, apps are not checked.
    type: bool
    default: true
  allow_mass_removal:
    description: As O(dokku_ci.teams.dokku_ci_user#module:allow_mass_removal).
    type: bool
    default: false
  max_removal_share:
    description: As O(dokku_ci.teams.dokku_ci_user#module:max_removal_share).
    type: float
    default: 0.5
  state_dir:
    description:
      - The dokku-teams state directory.
      - Defaults to C(state_dir) of the gate config O(config), else C(/var/lib/dokku-teams).
    type: path
  config:
    description: The gate's config file, read for its C(state_dir). It may be missing.
    type: path
    default: /etc/dokku-teams/gate.conf
attributes:
  check_mode:
    support: full
    description: Writes nothing in either mode; in check mode C(changed) says whether the declaration would change the state.
  diff_mode:
    support: full
    description: Shows the users and teams that would change, before and after.
  platform:
    support: full
    platforms: posix
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dokku_ci.teams.plugins.module_utils import lint, removal
from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
from ansible_collections.dokku_ci.teams.plugins.module_utils.ansible_common import (
    Context, changes, common_argument_spec, normalise, run, section_diff)
from ansible_collections.dokku_ci.teams.plugins.module_utils.declare import (
    apply_teams, apply_users, team_declarations, team_item_options, user_declarations, user_item_options)
from ansible_collections.dokku_ci.teams.plugins.module_utils.errors import StateError


def plan(current, params):
    """``(after_users, after)``: the state after the users call, and after both calls."""
    users = user_declarations(dict(params, name=None))
    teams = team_declarations(dict(params, name=None))
    share = params["max_removal_share"]
    allow = params["allow_mass_removal"]
    middle = normalise(apply_users(current, users, params["purge"]), current["serial"])
    removal.guard(current, middle, allow, share, purge=params["purge"], teams=False)
    after = normalise(apply_teams(middle, teams, params["purge"], params["purge_app_teams"]), current["serial"])
    removal.guard(middle, after, allow, share, purge=params["purge"], users=False,
                  purge_app_teams=params["purge_app_teams"])
    return after


def main():
    module = AnsibleModule(
        argument_spec=dict(
            users=dict(type="list", elements="dict", default=[], options=user_item_options()),
            teams=dict(type="list", elements="dict", default=[], options=team_item_options()),
            exclusive_keys=dict(type="bool", default=False, no_log=False),
            purge=dict(type="bool", default=False),
            purge_app_teams=dict(type="bool", default=False),
            allow_mass_removal=dict(type="bool", default=False),
            lint=dict(type="bool", default=True),
            max_removal_share=dict(type="float", default=removal.DEFAULT_SHARE),
            **common_argument_spec()),
        supports_check_mode=True,
    )

    def body():
        removal.check_share(module.params["max_removal_share"])
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
