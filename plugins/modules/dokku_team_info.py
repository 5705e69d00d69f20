#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dokku_team_info
short_description: Show the dokku-teams policy, one user's rights, or the gate's decision on a command
description:
  - Without O(user), returns the policy document (users and teams, as C(dokku-teams export) prints it).
  - With O(user), returns that user's effective rights - the view the gate reads (their teams' grants,
    the teams they own and belong to) and the records of those teams.
  - With O(user) and O(command), returns the decision the gate would take for that user running that
    command over SSH, the same answer as C(dokku-teams check --user USER --format json -- COMMAND).
    Nothing is run.
  - With O(who_can), returns every user who may act on an app (or run one command on it) and through
    which team, the same answer as C(dokku-teams who-can APP [COMMAND] --format json).
  - Never changes anything.
version_added: 0.1.0
author:
  - dokku_ci.teams contributors (@dokku-ci)
options:
  user:
    description: The user whose rights (or decision) to show.
    type: str
  command:
    description:
      - A command as the user would send it over SSH (C(SSH_ORIGINAL_COMMAND)), e.g. V(ps:restart web)
        or V(git-receive-pack 'web'). Requires O(user).
    type: str
  who_can:
    description:
      - Ask who may act on an app. Admins are listed through C(dokku@admin), users who created the app
        through its app team C(dokku@app--APP). Cannot be combined with O(user).
    type: dict
    suboptions:
      app:
        description: The app.
        type: str
        required: true
      command:
        description:
          - A command, e.g. V(ps:restart) or V(git-receive-pack). Without it, a team counts when it grants the
            app and any command.
        type: str
  config:
    description:
      - The gate's root-owned config file (its C(state_dir), and the programs a decision's C(argv) names).
        It may be missing.
extends_documentation_fragment:
  - dokku_ci.teams.dokku_teams
attributes:
  check_mode:
    support: full
    description: The module never changes anything; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
seealso:
  - module: dokku_ci.teams.dokku_team
  - module: dokku_ci.teams.dokku_ci_user
"""

EXAMPLES = r"""
- name: Read the policy document
  dokku_ci.teams.dokku_team_info:
  register: policy

- name: Show what alice may do
  dokku_ci.teams.dokku_team_info:
    user: alice
  register: alice_rights

- name: Would alice be allowed to restart web?
  dokku_ci.teams.dokku_team_info:
    user: alice
    command: ps:restart web
  register: check

- name: Who may restart web, and through which team?
  dokku_ci.teams.dokku_team_info:
    who_can:
      app: web
      command: ps:restart
  register: restarters

- name: Fail unless the gate allows it
  ansible.builtin.assert:
    that: check.decision.decision == 'allow'
    fail_msg: "{{ check.decision.reason }}"
"""

RETURN = r"""
document:
  description: The policy document (without O(user)).
  returned: when O(user) is not given
  type: dict
  contains:
    version:
      description: The document's format version.
      type: int
    users:
      description: Every user, with C(keys) and C(from).
      type: dict
    teams:
      description: Every team, with C(owners), C(members), C(commands), C(apps), C(services).
      type: dict
  sample:
    version: 1
    users: {alice: {keys: ["ssh-ed25519 AAAA... alice@laptop"], from: []}}
    teams:
      "dokku@admin": {owners: [], members: [], commands: [], apps: [], services: []}
      web: {owners: [], members: [alice], commands: ["git-*"], apps: [web], services: []}
host_escape_grants:
  description: Every team granted a host-escape command, and the command.
  returned: when O(user) is not given
  type: list
  elements: dict
  sample: [{team: ops, command: "storage:mount"}]
rights:
  description: The user's effective rights (with O(user), without O(command)).
  returned: when O(user) is given and O(command) is not
  type: dict
  contains:
    user:
      description: The user's name.
      type: str
    admin:
      description: Whether the user is an admin (a member of C(dokku@admin)).
      type: bool
    fingerprints:
      description: The fingerprints of the user's keys, as RV(dokku_ci.teams.dokku_ci_user#module:user.fingerprints).
      type: list
      elements: str
    from: {description: "As RV(dokku_ci.teams.dokku_ci_user#module:user.from).", type: list, elements: str}
    view:
      description: The compiled view the gate reads for the user (each team's commands, apps and services).
      type: dict
    teams:
      description: The records of the teams the user owns or belongs to.
      type: dict
  sample:
    user: alice
    admin: false
    fingerprints: ["SHA256:+6DiLwJVKG1OBiBl1O6ab38gLXHxuv1nK1mhXjih+jU"]
    from: []
    view:
      version: 1
      user: alice
      admin: false
      fingerprints: ["SHA256:+6DiLwJVKG1OBiBl1O6ab38gLXHxuv1nK1mhXjih+jU"]
      teams: [{team: web, commands: ["git-*"], apps: [web], all_apps: false, services: []}]
      owns: []
      member_of: [web]
    teams:
      web: {owners: [], members: [alice], commands: ["git-*"], apps: [web], services: []}
decision:
  description: The gate's decision (with O(user) and O(command)), as C(dokku-teams check --format json) prints it.
  returned: when O(user) and O(command) are given
  type: dict
  contains:
    decision:
      description: V(allow), V(deny), V(malformed), or V(error) when the state cannot be used.
      type: str
    reason:
      description: Why (for a denial, the line the user would see).
      type: str
    command:
      description: The pseudo-command (V(ps:restart), V(git-receive-pack), V(docker:pull), ...).
      type: str
    apps:
      description: The apps the command touches.
      type: list
      elements: str
    services:
      description: The services the command touches.
      type: list
      elements: dict
    argv:
      description: The argument list the gate would execute (V(null) when denied).
      type: list
      elements: str
    team:
      description: The team whose grant allows the command.
      type: str
  sample:
    decision: allow
    reason: granted by team web
    command: "ps:restart"
    apps: [web]
    services: []
    argv: [/usr/bin/dokku, "ps:restart", web]
    team: web
who_can:
  description: Every user who may act on O(who_can.app) (run O(who_can.command) on it), sorted by user.
  returned: when O(who_can) is given
  type: list
  elements: dict
  contains:
    user:
      description: The user's name.
      type: str
    admin:
      description: Whether the user is an admin.
      type: bool
    teams:
      description: Each team that grants it on its own (C(dokku@admin) for an admin).
      type: list
      elements: str
  sample: [{user: alice, admin: false, teams: [web]}, {user: root-admin, admin: true, teams: ["dokku@admin"]}]
exit_code:
  description: The exit code the gate and C(dokku-teams check) answer with (0 allow, 77 deny, 64 malformed, 75 state).
  returned: when O(user) and O(command) are given
  type: int
  sample: 0
"""

from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
from ansible_collections.dokku_ci.teams.plugins.module_utils.ansible_common import Context, new_module, run
from ansible_collections.dokku_ci.teams.plugins.module_utils.errors import Invalid
from ansible_collections.dokku_ci.teams.plugins.module_utils.names import check_user


def decide(context, user, command):
    """``(decision dict, exit code)`` as ``dokku-teams check --format json`` computes them."""
    from ansible_collections.dokku_ci.teams.plugins.module_utils.evaluate import check
    return check(context.store, user, command, context.config)


def rights(current, user):
    from ansible_collections.dokku_ci.teams.plugins.module_utils.policy import compile_view
    if user not in current["users"]:
        raise Invalid("unknown user %s: declare it with dokku_ci.teams.dokku_ci_user" % user)
    prints = statelib.fingerprints(current, user)
    view = compile_view(current, user, prints)
    teams = dict((name, record) for name, record in current["teams"].items()
                 if user in record["owners"] or user in record["members"])
    return {"user": user, "admin": view["admin"], "fingerprints": prints,
            "from": list(current["users"][user]["from"]), "view": view, "teams": teams}


def main():
    module = new_module(dict(
        user=dict(type="str"),
        command=dict(type="str"),
        who_can=dict(type="dict", options=dict(app=dict(type="str", required=True), command=dict(type="str"))),
    ), required_by={"command": ("user",)}, mutually_exclusive=[("who_can", "user")])
    params = module.params

    def body():
        user = params["user"]
        if user is not None:
            check_user(user)
        context = Context(module)
        if user is not None and params["command"] is not None:
            decision, code = decide(context, user, params["command"])
            module.exit_json(changed=False, decision=decision, exit_code=code)
        current, exists = context.snapshot()
        if not exists:
            module.warn("there is no dokku-teams state in %s yet: the policy is empty" % context.state_dir)
        if params["who_can"] is not None:
            from ansible_collections.dokku_ci.teams.plugins.module_utils.whocan import who_can
            module.exit_json(changed=False, who_can=who_can(current, params["who_can"]["app"],
                                                            params["who_can"]["command"]))
        if user is not None:
            module.exit_json(changed=False, rights=rights(current, user))
        flagged = [{"team": team, "command": command} for team, command in statelib.host_escape_grants(current)]
        module.exit_json(changed=False, document=statelib.export(current), host_escape_grants=flagged)

    run(module, body)


if __name__ == "__main__":
    main()
