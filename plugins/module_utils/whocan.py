# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``who-can APP [COMMAND]``: every user who may act on an app, and through which team.

The answer is the policy's own: each user's view is compiled (``policy.compile_view``) and,
one team of it at a time, asked ``policy.decide`` about a request for COMMAND on APP, so a team
is named exactly when it alone would let the gate run the command. Without COMMAND, a team
counts when it grants the app (``policy._grants_app``) and some command; admins are listed
through ``dokku@admin``.
"""

from __future__ import annotations

from . import commands, policy
from .errors import Malformed
from .names import ADMIN_TEAM, APP, COMMAND, is_app_team, show
from .request import Request

# The gate's own forms that act on one app (``request.py``): the app is their only argument.
_FORMS = ("git-receive-pack", "git-upload-pack", "docker:pull", "docker:tag")


def synthetic_request(app, command):
    """The request the gate would parse for ``command`` on ``app``, its other words left out:
    the decision then turns only on the command and the app (never on a value's type)."""
    if not COMMAND.match(command):
        raise Malformed("invalid command name %s" % show(command))
    command = commands.canonical(command)
    spec = commands.lookup(command)
    if command.startswith(("teams:", "team:")) or (spec is not None and spec.scope == "teams"):
        raise Malformed("%s does not act on an app; who-can answers for app commands" % command)
    if spec is not None and spec.scope not in ("app", "app,new", "form", "admin"):
        raise Malformed("%s does not act on an app; who-can answers for app commands" % command)
    if spec is not None and spec.scope == "form" and command not in _FORMS:
        raise Malformed("%s does not act on an app; who-can answers for app commands" % command)
    request = Request(command, "dokku", [command, app])
    request.apps = (app,)
    if spec is None:
        request.admin_reason = "%s is not a command the gate knows; it is restricted to admins" % command
        return request
    request.spec = spec
    request.escape = spec.literal
    request.handler = spec.handler
    if spec.scope == "admin":
        request.admin_reason = "%s is restricted to admins" % command
    return request


def who_can(state, app, command=None):
    """``[{"user", "admin", "teams"}]`` for every user of ``state`` who may act on ``app`` (run
    ``command`` on it), sorted by user; ``teams`` are the teams that grant it, each on its own."""
    if not APP.match(app):
        raise Malformed("invalid app name %s" % show(app))
    request = synthetic_request(app, command) if command is not None else None
    found = []
    for user in sorted(state["users"]):
        view = policy.compile_view(state, user, ())
        if view["admin"]:
            found.append({"user": user, "admin": True, "teams": [ADMIN_TEAM]})
            continue
        teams = []
        for team in view["teams"]:
            if request is not None:
                alone = dict(view, teams=[team])
                if policy.decide(alone, request).allowed:
                    teams.append(team["team"])
            elif team["commands"] and policy._grants_app(team, app):
                teams.append(team["team"])
        if teams:
            found.append({"user": user, "admin": False, "teams": teams})
    return found


def render(found, args, as_json):
    """The answer as Dokku-style text (``=====>`` header, one user a line) or JSON."""
    if as_json:
        import json
        return json.dumps(found) + "\n"
    what = "run %s on %s" % (args[1], args[0]) if len(args) > 1 else "act on %s" % args[0]
    lines = ["=====> Who can %s" % what]
    width = max([len(entry["user"]) for entry in found] + [8]) + 2
    for entry in found:
        kinds = ["%s%s" % (team, " (app team)" if is_app_team(team) else " (admin)" if team == ADMIN_TEAM else "")
                 for team in entry["teams"]]
        lines.append("       %s%s" % (entry["user"].ljust(width), ", ".join(kinds)))
    return "\n".join(lines) + "\n"
