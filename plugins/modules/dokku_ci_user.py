#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dokku_ci_user
short_description: Manage the people who log in to the restricted ci account of a Dokku host
description:
  - Declares one user (O(name)) or many in one call (O(users)) in the dokku-teams state, then
    regenerates the C(authorized_keys) file of the C(ci) account from the state.
  - Each key line sends the key to the gate with the user's name and the key's fingerprint
    (C(restrict,command="/usr/bin/sudo -n GATE --user NAME --key FP") plus C(from="...") when
    O(from) is given). The file is checked with C(ssh-keygen -l) and replaced atomically; it is
    never written through a symlink nor in a directory the C(ci) account could write.
  - Removing a user also takes them out of every team (a team may be left without owners; admins
    then name new ones).
  - When the gate config file O(config) does not exist, only the state is changed, C(authorized_keys)
    is left alone and the module warns.
version_added: 0.1.0
author:
  - dokku_ci.teams contributors (@dokku-ci)
options:
  name:
    description:
      - The user's name (1-64 of V(a-z 0-9 . _ @ -), starting with a letter or digit).
      - Mutually exclusive with O(users).
    type: str
  keys:
    description:
      - SSH public keys, one line each (C(TYPE BASE64 [COMMENT]), no options).
      - Types C(ssh-ed25519), C(ecdsa-sha2-nistp256/384/521) or C(ssh-rsa) of at least 2048 bits.
        A key belongs to one user only.
      - Required to create a user. With O(exclusive_keys=false) the keys are added to the ones
        the user has; with O(exclusive_keys=true) they replace them.
    type: list
    elements: str
  from:
    description:
      - Where the user may log in from, as the C(from="...") option of C(authorized_keys) - addresses,
        CIDR networks without host bits, or host name patterns with C(*) and C(?).
      - When given, the list replaces the user's; when omitted, it is left as it is (a new user gets
        none, so they may log in from anywhere).
    type: list
    elements: str
  state:
    description:
      - V(present) creates or updates the user; V(absent) removes them and takes them out of every team.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(users), remove every user the list does not name (and take them out of their teams).
      - Refused when it would remove every user, or more than O(max_removal_share) of them, unless
        O(allow_mass_removal=true).
  config:
    description:
      - The gate's root-owned config file; it says where C(authorized_keys) is, the gate's path and
        whether keys allow a terminal.
      - When the file does not exist, C(authorized_keys) is not touched and the module warns.
extends_documentation_fragment:
  - dokku_ci.teams.dokku_teams
  - dokku_ci.teams.dokku_teams.writes
  - dokku_ci.teams.dokku_teams.users
  - dokku_ci.teams.dokku_teams.removal
attributes:
  check_mode:
    description: Computes the new state and C(authorized_keys) and writes nothing.
  diff_mode:
    description: Shows the users that change (before and after) and the C(authorized_keys) lines.
  platform:
    description: Runs on the Dokku host, as root, with Python 3 and C(ssh-keygen).
notes:
  - Public keys are not secret - they appear in diffs and results.
  - Run as root on the host that runs the gate; the state and C(authorized_keys) must belong to root.
seealso:
  - module: dokku_ci.teams.dokku_team
  - module: dokku_ci.teams.dokku_team_info
"""

EXAMPLES = r"""
- name: Add a user with one key
  dokku_ci.teams.dokku_ci_user:
    name: alice
    keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRva2t1LWNpLXRlYW1zIGV4YW1wbGUga2V5IDAxLi4u alice@laptop

- name: Let bob in from the office network only, with exactly these keys
  dokku_ci.teams.dokku_ci_user:
    name: bob
    keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRva2t1LWNpLXRlYW1zIGV4YW1wbGUga2V5IDAyLi4u bob@desk
    from:
      - 192.0.2.0/24
    exclusive_keys: true

- name: Declare every user at once; remove the ones not listed
  dokku_ci.teams.dokku_ci_user:
    users:
      - name: alice
        keys:
          - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRva2t1LWNpLXRlYW1zIGV4YW1wbGUga2V5IDAxLi4u alice@laptop
      - name: olivia
        keys:
          - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRva2t1LWNpLXRlYW1zIGV4YW1wbGUga2V5IDAzLi4u olivia@home
    exclusive_keys: true
    purge: true

- name: Remove a user (and take them out of every team)
  dokku_ci.teams.dokku_ci_user:
    name: olivia
    state: absent
"""

RETURN = r"""
user:
  description: The user after the change (V(null) when absent). Only with O(name).
  returned: when O(name) is given
  type: dict
  contains:
    name:
      description: The user's name.
      type: str
    keys:
      description: The user's key lines.
      type: list
      elements: str
    from:
      description: Where the user may log in from (empty - anywhere).
      type: list
      elements: str
    fingerprints:
      description: The SHA256 fingerprints of the keys, as C(ssh-keygen -l) prints them.
      type: list
      elements: str
  sample:
    name: alice
    keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRva2t1LWNpLXRlYW1zIGV4YW1wbGUga2V5IDAxLi4u alice@laptop"]
    from: []
    fingerprints: ["SHA256:+6DiLwJVKG1OBiBl1O6ab38gLXHxuv1nK1mhXjih+jU"]
users:
  description: The names of every user of the state after the change.
  returned: always
  type: list
  elements: str
  sample: [alice, bob]
added:
  description: Users created.
  returned: always
  type: list
  elements: str
  sample: [alice]
removed:
  description: Users removed.
  returned: always
  type: list
  elements: str
  sample: [olivia]
updated:
  description: Users whose keys or O(from) changed.
  returned: always
  type: list
  elements: str
  sample: [bob]
authorized_keys_changed:
  description: Whether C(authorized_keys) was (or, in check mode, would be) rewritten.
  returned: always
  type: bool
  sample: true
"""

from ansible_collections.dokku_ci.teams.plugins.module_utils import sshkeys
from ansible_collections.dokku_ci.teams.plugins.module_utils.ansible_common import (
    Context, changes, keys_diff, new_module, run, state_diff)
from ansible_collections.dokku_ci.teams.plugins.module_utils.declare import (
    PRESENCE, declare_users, removal_options, user_declarations, user_list_options)
from ansible_collections.dokku_ci.teams.plugins.module_utils.removal import check_share


def user_result(state, name):
    record = state["users"].get(name)
    if record is None:
        return None
    return {"name": name, "keys": list(record["keys"]), "from": list(record["from"]),
            "fingerprints": sorted(sshkeys.parse_key(line).fingerprint for line in record["keys"])}


def main():
    argument_spec = dict(name=dict(type="str"), keys=dict(type="list", elements="str", no_log=False),
                         state=dict(PRESENCE))
    argument_spec["from"] = dict(type="list", elements="str")
    argument_spec.update(user_list_options())
    argument_spec.update(removal_options())
    module = new_module(argument_spec, required_one_of=[("name", "users")],
                        mutually_exclusive=[("name", "users"), ("keys", "users"), ("from", "users")])
    params = module.params
    if params["purge"] and params["users"] is None:
        module.fail_json(msg="purge only goes with users (the complete list of users)")

    def body():
        items = user_declarations(params)
        context = Context(module)
        check_share(params["max_removal_share"])
        changed, before, after = context.apply(lambda current: declare_users(current, items, params))
        keys_changed, keys_before, keys_after = context.sync_authorized_keys(after)
        added, removed, updated = changes(before, after, "users")
        result = dict(changed=changed or keys_changed, users=sorted(after["users"]), added=added,
                      removed=removed, updated=updated, authorized_keys_changed=keys_changed)
        if params["name"] is not None:
            result["user"] = user_result(after, params["name"])
        if module._diff:
            diffs = [state_diff(before, after, "users")]
            if keys_changed:
                diffs.append(keys_diff(context.config.authorized_keys, keys_before, keys_after))
            result["diff"] = diffs
        module.exit_json(**result)

    run(module, body)


if __name__ == "__main__":
    main()
