# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """The documentation the dokku_ci.teams modules share, one text per option set.

    Each text documents an argument spec built in one place (``ansible_common`` and
    ``declare``); a module may override a key of an option (its own ``description``, a
    ``default``) and the rest comes from here.
    """

    # Every module: where the state and the gate config are (ansible_common.common_argument_spec).
    DOCUMENTATION = r"""
options:
  state_dir:
    description:
      - The dokku-teams state directory.
      - Defaults to C(state_dir) of the gate config O(config), else C(/var/lib/dokku-teams).
    type: path
  config:
    description: The gate's root-owned config file, read for its C(state_dir). It may be missing.
    type: path
    default: /etc/dokku-teams/gate.conf
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs on the Dokku host, as root, with Python 3.
"""

    # The modules that write the state: check mode computes the new state only.
    WRITES = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Computes the new state and writes nothing.
  diff_mode:
    support: full
    description: Shows the teams that change, before and after.
"""

    # A team's people (the first two of declare.team_field_options), as dokku_team sets them.
    PEOPLE = r"""
options:
  owners:
    description: The team's owners (exact list when given).
    type: list
    elements: str
  members:
    description: The team's members (exact list when given).
    type: list
    elements: str
"""

    # A team's grants (the last three of declare.team_field_options): dokku_team sets them,
    # dokku_team_grant adds, revokes or sets them.
    GRANTS = r"""
options:
  commands:
    description:
      - Commands the members may run, e.g. V(apps:list), V(git-*), V(config:*), V(*).
      - Globs never match host-escape commands nor admin-only commands.
    type: list
    elements: str
  apps:
    description: Apps the members may touch; V(*) is every app.
    type: list
    elements: str
  services:
    description: Services the members may touch.
    type: list
    elements: dict
    suboptions:
      type:
        description: The service type (V(postgres), V(redis), ...) or V(*).
        type: str
        required: true
      name:
        description: The service name, or V(*).
        type: str
        required: true
"""

    # The items of ``teams`` (declare.team_item_options).
    TEAMS = r"""
options:
  teams:
    description:
      - Many teams in one call (one state write however many teams). Mutually exclusive with O(name).
    type: list
    elements: dict
    suboptions:
      name:
        description: The team, as O(dokku_ci.teams.dokku_team#module:name).
        type: str
        required: true
      state:
        description: V(present) or V(absent), as O(dokku_ci.teams.dokku_team#module:state).
        type: str
        choices: [present, absent]
        default: present
      owners: {description: As O(dokku_ci.teams.dokku_team#module:owners)., type: list, elements: str}
      members: {description: As O(dokku_ci.teams.dokku_team#module:members)., type: list, elements: str}
      commands: {description: As O(dokku_ci.teams.dokku_team#module:commands)., type: list, elements: str}
      apps: {description: As O(dokku_ci.teams.dokku_team#module:apps)., type: list, elements: str}
      services:
        description: As O(dokku_ci.teams.dokku_team#module:services).
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
  purge_app_teams:
    description:
      - With O(purge), also destroy the V(dokku@app--APP) teams the list does not name (they are created
        through the gate when a user creates an app).
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
"""

    # The items of ``users`` (declare.user_item_options).
    USERS = r"""
options:
  users:
    description:
      - Many users in one call (one state write and one C(authorized_keys) write, however many users).
      - Mutually exclusive with O(name).
    type: list
    elements: dict
    suboptions:
      name:
        description: The user's name.
        type: str
        required: true
      keys:
        description: SSH public keys, as O(dokku_ci.teams.dokku_ci_user#module:keys).
        type: list
        elements: str
      from:
        description: Where the user may log in from, as O(dokku_ci.teams.dokku_ci_user#module:from).
        type: list
        elements: str
      state:
        description: V(present) or V(absent), as O(dokku_ci.teams.dokku_ci_user#module:state).
        type: str
        choices: [present, absent]
        default: present
      exclusive_keys:
        description: Whether the item's keys are the user's complete list; defaults to the top-level O(exclusive_keys).
        type: bool
  exclusive_keys:
    description:
      - Whether O(dokku_ci.teams.dokku_ci_user#module:keys) is the complete list of the user's keys
        (others are removed).
      - In O(users), the default for the items that do not set their own.
    type: bool
    default: false
"""

    # The purge guard (removal.guard) of the list modules.
    REMOVAL = r"""
options:
  purge:
    description: Remove (destroy) everything the list does not name.
    type: bool
    default: false
  allow_mass_removal:
    description:
      - Allow a change that removes every user or team O(purge) may remove, more than
        O(max_removal_share) of them, or every member of V(dokku@admin). Without it such a
        change is refused with the list of what it would remove, since an inventory whose
        variables did not load looks the same as one that declares nothing.
    type: bool
    default: false
  max_removal_share:
    description:
      - The largest share (0 to 1) of the users or teams a purge may remove without O(allow_mass_removal).
        Removing a single one is always allowed.
    type: float
    default: 0.5
"""
