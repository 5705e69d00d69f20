# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side filters over the policy document that dokku_team_info returns.

``who_can`` and ``who_can_deploy`` answer with the gate's own decision function (the engine in
module_utils, evaluated here on the controller), so a report never disagrees with the host.
``policy_query`` runs a JMESPath expression over the document, with users and teams as lists
of records carrying their ``name`` (JMESPath cannot select on an object's keys).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
from ansible_collections.dokku_ci.teams.plugins.module_utils.errors import Invalid
from ansible_collections.dokku_ci.teams.plugins.module_utils.evaluate import evaluate
from ansible_collections.dokku_ci.teams.plugins.module_utils.names import ADMIN_TEAM
from ansible_collections.dokku_ci.teams.plugins.module_utils.policy import compile_view

try:
    import jmespath
except ImportError:  # a controller without requirements.txt: policy_query says so when used
    jmespath = None


def _state(document, filter_name):
    if not isinstance(document, dict) or "teams" not in document:
        raise AnsibleFilterError("%s: expects the policy document (dokku_team_info's `document`), "
                                 "got %s" % (filter_name, type(document).__name__))
    try:
        return statelib.import_document(document)
    except Invalid as error:
        raise AnsibleFilterError("%s: not a valid policy document: %s" % (filter_name, error))


def who_can(document, command):
    """The users the gate would let run COMMAND (as sent over SSH), sorted."""
    if not isinstance(command, str) or not command.strip():
        raise AnsibleFilterError("who_can: the command must be a non-empty string")
    state = _state(document, "who_can")
    # A malformed command is refused before any policy is read: the same for every user.
    refusal = evaluate(compile_view(state, None, ()), command)
    if refusal.request is None:
        raise AnsibleFilterError("who_can: malformed command: %s" % refusal.reason)
    return [user for user in sorted(state["users"])
            if evaluate(compile_view(state, user, ()), command).allowed]


def who_can_deploy(document, app):
    """The users who may `git push` to APP: who_can for git-receive-pack 'APP'."""
    if not isinstance(app, str) or not app or "'" in app:
        raise AnsibleFilterError("who_can_deploy: expects an app name, got %r" % (app,))
    return who_can(document, "git-receive-pack '%s'" % app)


def _records(document):
    teams = []
    for name, team in sorted(document["teams"].items()):
        record = {"name": name, "admin": name == ADMIN_TEAM}
        record.update(team)
        teams.append(record)
    users = []
    for name, user in sorted(document["users"].items()):
        record = {"name": name}
        record.update(user)
        users.append(record)
    return {"version": document["version"], "users": users, "teams": teams}


def policy_query(document, expression):
    """JMESPath EXPRESSION over the document, users and teams as lists of named records."""
    if jmespath is None:
        raise AnsibleFilterError("policy_query needs the jmespath library on the controller "
                                 "(pip install -r requirements.txt)")
    state = _state(document, "policy_query")
    try:
        return jmespath.search(expression, _records(statelib.export(state)))
    except jmespath.exceptions.JMESPathError as error:
        raise AnsibleFilterError("policy_query: %s" % error)


class FilterModule(object):
    def filters(self):
        return {"who_can": who_can, "who_can_deploy": who_can_deploy, "policy_query": policy_query}
