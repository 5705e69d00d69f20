# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dokku Pro's ``teams:*`` verbs, for an actor who is an admin or an ordinary user.

The CLI calls this as root (an admin); the gate calls it for the user behind an SSH key.
Authorisation is enforced here again, on the full state, whatever the caller decided
before: owners manage their team's owners and members, only admins create teams and change
what a team may touch, owners or admins destroy. A team the actor is not part of is answered
as if it did not exist.
"""

from __future__ import annotations

from .errors import DokkuTeamsError, EX_DENIED, EX_MALFORMED, Invalid
from .jsonlite import dumps
from .names import ADMIN_TEAM, show

# ``teams:whoami`` is the gate's cheapest answer: this module imports ``json`` and ``state``
# (and so ``re`` and the key parser) only on the verbs that read or change the state.

# Dokku Pro's verbs, with the plural spellings it also accepts.
ALIASES = {
    "members-add": "member-add", "members-remove": "member-remove",
    "owners-add": "owner-add", "owners-remove": "owner-remove",
    "commands-add": "command-add", "commands-remove": "command-remove",
    "apps-add": "app-add", "apps-remove": "app-remove",
    "services-add": "service-add", "services-remove": "service-remove",
    "report": "team-report", "access-report": "team-report",
}
VERBS = ("create", "destroy", "list", "member-add", "member-remove", "owner-add", "owner-remove",
         "command-add", "command-remove", "app-add", "app-remove", "service-add", "service-remove",
         "team-report", "whoami", "whois")
ADMIN_VERBS = frozenset(("create", "command-add", "command-remove", "app-add", "app-remove",
                         "service-add", "service-remove"))
OWNER_VERBS = frozenset(("member-add", "member-remove", "owner-add", "owner-remove", "destroy"))
READ_VERBS = frozenset(("whoami", "list", "team-report", "whois"))
# Verbs whose first argument is a team (what the audit line's ``team`` field records).
TEAM_ARG_VERBS = frozenset(VERBS) - frozenset(("list", "whoami", "whois"))

USAGE = {
    "create": "teams:create TEAM",
    "destroy": "teams:destroy TEAM",
    "list": "teams:list [--format json]",
    "member-add": "teams:member-add TEAM USER [USER ...]",
    "member-remove": "teams:member-remove TEAM USER [USER ...]",
    "owner-add": "teams:owner-add TEAM USER [USER ...]",
    "owner-remove": "teams:owner-remove TEAM USER [USER ...]",
    "command-add": "teams:command-add TEAM COMMAND [COMMAND ...]",
    "command-remove": "teams:command-remove TEAM COMMAND [COMMAND ...]",
    "app-add": "teams:app-add TEAM APP [APP ...]",
    "app-remove": "teams:app-remove TEAM APP [APP ...]",
    "service-add": "teams:service-add TEAM SERVICE_TYPE SERVICE_NAME",
    "service-remove": "teams:service-remove TEAM SERVICE_TYPE SERVICE_NAME",
    "team-report": "teams:team-report TEAM [--format json]",
    "whoami": "teams:whoami [--format json]",
    "whois": "teams:whois USER [--format json]",
}


class _Answer(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


def _split(words):
    """``(verb, positionals, json_output)`` from ``teams:VERB ARGS...``."""
    head = words[0] if words else ""
    prefix, unused_sep, verb = head.partition(":")
    if prefix not in ("teams", "team") or not verb:
        raise _Answer(EX_MALFORMED, "unknown command %s" % show(head))
    verb = ALIASES.get(verb, verb)
    if verb not in VERBS:
        raise _Answer(EX_MALFORMED, "unknown command teams:%s (known: %s)" % (verb, ", ".join(VERBS)))
    args = list(words[1:])
    as_json = False
    positionals = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--format" and index + 1 < len(args):
            as_json = _format(args[index + 1])
            index += 2
            continue
        if arg.startswith("--format="):
            as_json = _format(arg.partition("=")[2])
        elif arg.startswith("-"):
            raise _Answer(EX_MALFORMED, "unknown option %s for teams:%s" % (show(arg), verb))
        else:
            positionals.append(arg)
        index += 1
    return verb, positionals, as_json


def _format(value):
    if value not in ("json", "stdout", "text"):
        raise _Answer(EX_MALFORMED, "--format takes json or stdout")
    return value == "json"


def _need(verb, positionals, least, most=None):
    if len(positionals) < least or (most is not None and len(positionals) > most):
        raise _Answer(EX_MALFORMED, "usage: %s" % USAGE[verb])


def _visible(state, actor, admin, team):
    """Whether ``actor`` may see ``team`` at all (members, owners, admins)."""
    info = state["teams"].get(team)
    if info is None:
        return False
    return admin or actor in info["owners"] or actor in info["members"]


def _team_or_opaque(state, actor, admin, team):
    if not _visible(state, actor, admin, team):
        raise _Answer(EX_DENIED, "Team %s does not exist" % team)
    return state["teams"][team]


def _verb(words):
    head = words[0] if words else ""
    prefix, unused_sep, verb = head.partition(":")
    if prefix not in ("teams", "team"):
        return None
    return ALIASES.get(verb, verb)


def writes(words):
    """Whether ``teams:VERB ARGS...`` would change the state (unknown verbs count as writes:
    they are refused later, and a budget spent on them bounds a flood of them too)."""
    return _verb(words) not in READ_VERBS


def team_of(words):
    """The team ``teams:VERB TEAM ...`` names (None for verbs without one, or no argument)."""
    if _verb(words) not in TEAM_ARG_VERBS:
        return None
    for word in words[1:]:
        if not word.startswith("-"):
            return word
    return None


def execute(store, actor, words, admin=False, notes=None):
    """Run one ``teams:*`` command; return ``(exit_code, stdout_text, stderr_text)``.

    Never raises for bad input or refusals: they come back as an exit code and one line.
    ``notes``, a list, receives what the actor is not told but the audit log should say.
    """
    notes = [] if notes is None else notes
    try:
        verb, args, as_json = _split(list(words))
        if verb == "whoami":
            # Needs nothing from the state: answered without loading (and validating) all of it.
            _need(verb, args, 0, 0)
            return 0, _whoami(actor, admin, as_json), ""
        if verb in ("list", "team-report", "whois"):
            return 0, _read(store.load(), actor, admin, verb, args, as_json), ""
        if verb in ADMIN_VERBS and not admin:
            raise _Answer(EX_DENIED, "teams:%s is restricted to admins" % verb)
        message = _change(store, actor, admin, verb, args, notes)
        return 0, message + "\n", ""
    except _Answer as answer:
        return answer.code, "", "!     %s\n" % answer.message
    except DokkuTeamsError as error:
        return error.code, "", "!     %s\n" % error.message


def _change(store, actor, admin, verb, args, notes):
    from . import state as statelib
    with store.transaction() as tx:
        current = tx.state
        if verb == "create":
            _need(verb, args, 1, 1)
            if args[0] in current["teams"]:
                raise _Answer(1, "Team %s already exists" % args[0])
            tx.state = statelib.create_team(current, args[0])
            return "-----> Team %s created" % args[0]
        _need(verb, args, 1)
        team = args[0]
        info = _team_or_opaque(current, actor, admin, team)
        if verb in OWNER_VERBS and not admin and actor not in info["owners"]:
            raise _Answer(EX_DENIED, "only owners of team %s may do that" % team)
        if team == ADMIN_TEAM and verb != "member-add" and verb != "member-remove":
            raise Invalid("the permissions and owners of %s cannot be changed" % ADMIN_TEAM)
        if team == ADMIN_TEAM and not admin:
            raise _Answer(EX_DENIED, "only admins may change %s" % ADMIN_TEAM)
        if verb == "destroy":
            _need(verb, args, 1, 1)
            tx.state = statelib.destroy_team(current, team)
            return "-----> Team %s destroyed" % team
        if verb in ("member-add", "owner-add", "member-remove", "owner-remove"):
            _need(verb, args, 2)
            role = "owner" if verb.startswith("owner") else "member"
            if verb.endswith("-add") and not admin:
                return _owner_adds(tx, current, team, args[1:], role, notes)
            if verb.endswith("-add"):
                tx.state = statelib.add_members(current, team, args[1:], role)
            else:
                tx.state = statelib.remove_members(current, team, args[1:], role)
            return "-----> %s %s: %s" % ("Added to" if verb.endswith("-add") else "Removed from",
                                         "%s %ss" % (team, role), " ".join(args[1:]))
        if verb in ("service-add", "service-remove"):
            _need(verb, args, 3, 3)
            services = [{"type": args[1], "name": args[2]}]
            grants = {"services": services}
        elif verb in ("command-add", "command-remove"):
            _need(verb, args, 2)
            grants = {"commands": args[1:]}
        else:
            _need(verb, args, 2)
            grants = {"apps": args[1:]}
        if verb.endswith("-add"):
            tx.state = statelib.add_grants(current, team, **grants)
        else:
            tx.state = statelib.remove_grants(current, team, **grants)
        what = verb.partition("-")[0]
        return "-----> Team %s: %s %s %s" % (team, what + "s", "added" if verb.endswith("-add") else "removed",
                                             " ".join(args[1:]))


def _owner_adds(tx, current, team, people, role, notes):
    """An owner's ``member-add``/``owner-add``: the same answer whether each name is a user or
    not, so the verb does not tell which user names exist on the host. Names that are users
    are added; the others are left out without a word to the owner (the audit line says which).
    Dokku Pro answers ``teams:whois`` for an unknown user the same way, without an error.
    Malformed names are still refused: that says nothing about who exists."""
    from . import state as statelib
    from .names import check_user
    for person in people:
        check_user(person)
    known = [person for person in people if person in current["users"]]
    unknown = [person for person in people if person not in current["users"]]
    if unknown:
        notes.append("not users, left out: %s" % " ".join(unknown))
    if known:
        tx.state = statelib.add_members(current, team, known, role)
    return "-----> Added to %s %ss: %s (a name that is not a user here is left out)" % (
        team, role, " ".join(people))


def team_report(state, team):
    from . import state as statelib
    info = state["teams"][team]
    return {"team": team, "owners": list(info["owners"]), "members": list(info["members"]),
            "commands": list(info["commands"]), "apps": list(info["apps"]),
            "services": [dict(service) for service in info["services"]],
            "host_escape": sorted(command for name, command in statelib.host_escape_grants(state) if name == team)}


def user_report(state, user):
    teams = state["teams"]
    return {"user": user,
            "admin": user in teams[ADMIN_TEAM]["members"],
            "member_of": sorted(name for name, info in teams.items() if user in info["members"]),
            "owner_of": sorted(name for name, info in teams.items() if user in info["owners"]),
            "keys": len(state["users"].get(user, {}).get("keys", ()))}


def _read(state, actor, admin, verb, args, as_json):
    import json
    if verb == "list":
        _need(verb, args, 0, 0)
        names = sorted(name for name in state["teams"] if _visible(state, actor, admin, name))
        if as_json:
            return json.dumps(names) + "\n"
        return "=====> Teams\n" + "".join(name + "\n" for name in names)
    if verb == "team-report":
        _need(verb, args, 1, 1)
        _team_or_opaque(state, actor, admin, args[0])
        report = team_report(state, args[0])
        if as_json:
            return json.dumps(report, sort_keys=True) + "\n"
        return _report_text("%s team information" % args[0], [
            ("Team owners", report["owners"]), ("Team members", report["members"]),
            ("Team commands", report["commands"]), ("Team apps", report["apps"]),
            ("Team services", ["%s:%s" % (s["type"], s["name"]) for s in report["services"]]),
            ("Team host escapes", report["host_escape"])])
    _need(verb, args, 1, 1)
    user = args[0]
    if not admin and user != actor:
        raise _Answer(EX_DENIED, "teams:whois for another user is restricted to admins")
    if user not in state["users"] and not (admin and user == actor):
        raise _Answer(1, "User %s does not exist" % user)
    report = user_report(state, user)
    if as_json:
        return json.dumps(report, sort_keys=True) + "\n"
    return _report_text("%s user information" % user, [
        ("User admin", ["true" if report["admin"] else "false"]), ("User teams", report["member_of"]),
        ("User owns", report["owner_of"]), ("User keys", [str(report["keys"])])])


def _whoami(actor, admin, as_json):
    if as_json:
        return dumps({"user": actor, "admin": admin}) + "\n"
    return actor + "\n"


def _report_text(title, rows):
    width = max(len(label) for label, unused_values in rows) + 2
    lines = ["=====> %s" % title]
    for label, values in rows:
        lines.append("       %s%s" % ((label + ":").ljust(width), " ".join(values)))
    return "\n".join(lines) + "\n"
