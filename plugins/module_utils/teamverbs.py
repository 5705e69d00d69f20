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

from . import commands
from .errors import DokkuTeamsError, EX_DENIED, EX_FAIL, EX_MALFORMED, Invalid
from .jsonlite import dumps
from .names import ADMIN_TEAM, APP_TEAM_PREFIX, RESERVED_PREFIX, is_app_team, show

# ``teams:whoami`` is the gate's cheapest answer: the gate hands over the caller's compiled view,
# and this module imports ``json`` and ``state`` (and so ``re`` and the key parser) only on the
# verbs that read or change the state.

# Who may run a verb is the registry's ``who:`` (registry_rows.py), the one list of the verbs.
ADMIN_VERBS = frozenset(verb for verb in commands.teams_verbs() if commands.lookup("teams:" + verb).who == "admin")
OWNER_VERBS = frozenset(verb for verb in commands.teams_verbs() if commands.lookup("teams:" + verb).who == "owner")
READ_VERBS = frozenset(verb for verb in commands.teams_verbs()
                       if commands.lookup("teams:" + verb).who == "anyone") | frozenset(("who-can",))
# Verbs whose first argument is a team (what the audit line's ``team`` field records).
TEAM_ARG_VERBS = frozenset(commands.teams_verbs()) - frozenset(("list", "whoami", "whois", "who-can"))

USAGE = {
    "create": "teams:create TEAM",
    "destroy": "teams:destroy TEAM [--force]",
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
    "team-report": "teams:team-report TEAM [--team-FIELD] [--format json]",
    "whoami": "teams:whoami [--user-FIELD | --username] [--format json]",
    "whois": "teams:whois USER [--user-FIELD | --username] [--format json]",
    "who-can": "teams:who-can APP [COMMAND] [--format json]",
}

# Dokku Pro's report fields, as Dokku's common report prints them (dokku/dokku
# plugins/common/common.go ReportSingleApp): the flag shows one value, the flag without its
# dashes is the JSON key, the label is the flag with blanks for dashes. Sorted by flag, like Dokku.
USER_FLAGS = ("--user-app-membership", "--user-app-ownership", "--user-is-global-admin", "--user-membership",
              "--user-ownership", "--user-service-membership", "--user-service-ownership", "--username")
# ``--team-host-escapes`` is this collection's own: the commands the team holds that reach the host.
TEAM_FLAGS = ("--team-apps", "--team-commands", "--team-host-escapes", "--team-is-internal",
              "--team-is-internal-app-team", "--team-is-internal-service-team", "--team-members", "--team-name",
              "--team-owners", "--team-services")
# This collection grants services through ordinary teams: it has no per-service teams, whose
# names Dokku Pro reserves (``dokku@service--TYPE-NAME``).
SERVICE_TEAM_PREFIX = RESERVED_PREFIX + "service--"


class _Answer(DokkuTeamsError):
    """A verb's answer other than success: one line and the exit code Dokku Pro gives."""

    def __init__(self, code, message):
        DokkuTeamsError.__init__(self, message)
        self.code = code


class _Words(object):
    __slots__ = ("verb", "args", "as_json", "force", "field")


def _split(words):
    """A ``teams:VERB ARGS...`` command, parsed with its registry row (aliases resolved)."""
    from .request import teams_words
    head = words[0] if words else ""
    prefix, unused_sep, verb = head.partition(":")
    if prefix not in ("teams", "team") or not verb:
        raise _Answer(EX_MALFORMED, "unknown command %s" % show(head))
    spec = commands.lookup(head)
    if spec is None or spec.scope != "teams":
        raise _Answer(EX_MALFORMED, "unknown command %s (known: %s)" % (
            show(head), ", ".join(commands.teams_verbs())))
    parsed = _Words()
    parsed.verb = spec.name.partition(":")[2]
    parsed.args, options, parsed.field = teams_words(spec, list(words[1:]))
    parsed.args = list(parsed.args)
    parsed.as_json = options.get("--format") == "json"
    parsed.force = bool(options.get("--force"))
    if parsed.field is not None and parsed.as_json:
        # Dokku's words (plugins/common/common.go, ReportSingleAppInput.Validate).
        raise _Answer(EX_MALFORMED, "--format flag cannot be specified when specifying an info flag")
    return parsed


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
    return commands.TEAMS_ALIASES.get(verb, verb)


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


def execute(store, actor, words, admin=False, notes=None, view=None, confirm=None):
    """Run one ``teams:*`` command; return ``(exit_code, stdout_text, stderr_text)``.

    ``view`` is the actor's compiled view when the caller has it (the gate): ``teams:whoami``
    answers from it without loading the state. ``confirm(team)`` asks on a terminal for the
    team's name before ``teams:destroy``; without it (over SSH) ``--force`` is required.
    Never raises for bad input or refusals: they come back as an exit code and one line.
    ``notes``, a list, receives what the actor is not told but the audit log should say.
    """
    notes = [] if notes is None else notes
    try:
        parsed = _split(list(words))
        verb, args = parsed.verb, parsed.args
        if verb == "whoami":
            _need(verb, args, 0, 0)
            return 0, _whoami(store, actor, admin, view, parsed), ""
        if verb in ("list", "team-report", "whois"):
            return 0, _read(store.load(), actor, admin, verb, args, parsed), ""
        if verb in ADMIN_VERBS and not admin:
            raise _Answer(EX_DENIED, "teams:%s is restricted to admins" % verb)
        if verb == "who-can":
            from . import whocan
            _need(verb, args, 1, 2)
            return 0, whocan.render(whocan.who_can(store.load(), *args), args, parsed.as_json), ""
        if verb == "destroy":
            _confirm_destroy(store, actor, admin, args, parsed.force, confirm)
        message = _change(store, actor, admin, verb, args, notes)
        return 0, message + "\n", ""
    except DokkuTeamsError as error:     # an _Answer too
        return error.code, "", "!     %s\n" % error.message


def _confirm_destroy(store, actor, admin, args, force, confirm):
    """Dokku's confirmation of a destructive action (dokku/dokku plugins/common/common.go
    AskForDestructiveConfirmation), with the words of Dokku Pro's teams:destroy. Only for a team
    the actor may see (``_change`` checks the rest under the lock)."""
    _need("destroy", args, 1, 1)
    if force:
        return
    if confirm is None:
        raise _Answer(EX_MALFORMED, "teams:destroy %s needs --force when there is no terminal to confirm on" % args[0])
    team = args[0]
    _team_or_opaque(store.load(), actor, admin, team)
    answer = confirm(team)
    if answer != team:
        raise _Answer(EX_FAIL, "Confirmation did not match test. Aborted.")


def terminal_confirm(team, stdin=None, stdout=None, stderr=None):
    """Ask for ``team``'s name on the terminal; the line typed (``None`` at end of input)."""
    import sys
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    stderr.write(" !     WARNING: Potentially Destructive Action\n"
                 " !     This command will destroy the team %s.\n"
                 " !     To proceed, type \"%s\"\n" % (team, team))
    stderr.flush()
    stdout.write("> ")
    stdout.flush()
    line = stdin.readline()
    return line.rstrip("\n") if line else None


def _change(store, actor, admin, verb, args, notes):
    from . import state as statelib
    with store.transaction() as tx:
        current = tx.state
        if verb == "create":
            _need(verb, args, 1, 1)
            if args[0] in current["teams"]:
                raise _Answer(EX_FAIL, "Team %s already exists" % args[0])
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


def _values(pairs):
    """``{flag: value}`` for the flags of ``pairs``, every value a string (lists space-delimited)."""
    out = {}
    for flag, value in pairs:
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif not isinstance(value, str):
            value = " ".join(value)
        out[flag] = value
    return out


def team_report(state, team):
    """Dokku Pro's team report: ``{flag: value}`` over ``TEAM_FLAGS``."""
    from . import state as statelib
    info = state["teams"][team]
    return _values((
        ("--team-apps", info["apps"]), ("--team-commands", info["commands"]),
        ("--team-host-escapes", sorted(command for name, command in statelib.host_escape_grants(state) if name == team)),
        ("--team-is-internal", team.startswith(RESERVED_PREFIX)),
        ("--team-is-internal-app-team", is_app_team(team)),
        ("--team-is-internal-service-team", team.startswith(SERVICE_TEAM_PREFIX)),
        ("--team-members", info["members"]), ("--team-name", team), ("--team-owners", info["owners"]),
        ("--team-services", ["%s:%s" % (service["type"], service["name"]) for service in info["services"]])))


def _teams_of(state, user):
    """``(admin, member_of, owns)`` for ``user``, as ``policy.compile_view`` computes them."""
    teams = state["teams"]
    return (user in teams.get(ADMIN_TEAM, {}).get("members", ()),
            sorted(name for name, info in teams.items() if user in info["members"]),
            sorted(name for name, info in teams.items() if user in info["owners"]))


def user_report(user, admin, member_of, owns):
    """Dokku Pro's user report: ``{flag: value}`` over ``USER_FLAGS``. App teams are shown as
    their apps; ordinary teams by name; ``dokku@admin`` as ``User is global admin``."""
    def apps(names):
        return sorted(name[len(APP_TEAM_PREFIX):] for name in names if is_app_team(name))

    def ordinary(names):
        return sorted(name for name in names if not name.startswith(RESERVED_PREFIX))

    def services(names):
        return sorted(name[len(SERVICE_TEAM_PREFIX):] for name in names if name.startswith(SERVICE_TEAM_PREFIX))

    return _values((
        ("--user-app-membership", apps(member_of)), ("--user-app-ownership", apps(owns)),
        ("--user-is-global-admin", bool(admin)), ("--user-membership", ordinary(member_of)),
        ("--user-ownership", ordinary(owns)), ("--user-service-membership", services(member_of)),
        ("--user-service-ownership", services(owns)), ("--username", user)))


def _read(state, actor, admin, verb, args, parsed):
    if verb == "list":
        _need(verb, args, 0, 0)
        names = sorted(name for name in state["teams"] if _visible(state, actor, admin, name))
        if parsed.as_json:
            import json
            return json.dumps(names) + "\n"
        return "=====> Teams\n" + "".join(name + "\n" for name in names)
    _need(verb, args, 1, 1)
    if verb == "team-report":
        _team_or_opaque(state, actor, admin, args[0])
        return _show("%s team information" % args[0], TEAM_FLAGS, team_report(state, args[0]), parsed)
    user = args[0]
    if not admin and user != actor:
        raise _Answer(EX_DENIED, "teams:whois for another user is restricted to admins")
    # Like Dokku Pro: a user that does not exist is no error, only has no permissions.
    member_admin, member_of, owns = _teams_of(state, user)
    report = user_report(user, member_admin or (admin and user == actor), member_of, owns)
    return _show("%s user information" % user, USER_FLAGS, report, parsed)


def _whoami(store, actor, admin, view, parsed):
    if parsed.field == "--username":
        return actor + "\n"
    if view is not None and "member_of" in view and "owns" in view:
        member_admin, member_of, owns = view["admin"], view["member_of"], view["owns"]
    elif parsed.field is not None and parsed.field not in USER_FLAGS:
        member_admin, member_of, owns = False, (), ()     # refused by _show before anything is read
    else:
        member_admin, member_of, owns = _teams_of(store.load(), actor)
    report = user_report(actor, admin or member_admin, member_of, owns)
    return _show("%s user information" % actor, USER_FLAGS, report, parsed)


def _show(title, flags, report, parsed):
    """One report as Dokku prints it: every field, one field's value, or JSON."""
    if parsed.field is not None:
        if parsed.field not in report:
            # Dokku's words (plugins/common/common.go ReportSingleApp).
            raise _Answer(EX_MALFORMED, "Invalid flag passed, valid flags: %s" % ", ".join(flags))
        return report[parsed.field] + "\n"
    if parsed.as_json:
        return dumps(dict((flag[2:], report[flag]) for flag in flags)) + "\n"
    width = max([len(flag) for flag in flags] + [31])
    lines = ["=====> %s" % title]
    for flag in flags:
        label = flag[2:].replace("-", " ")
        lines.append("       %s%s" % ((label[:1].upper() + label[1:] + ":").ljust(width), report[flag]))
    return "\n".join(lines) + "\n"
