# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy: one user's compiled view of the state, and the one function that decides.

Dokku Pro's model made precise: admins (members of ``dokku@admin``) may do anything; anyone
else is allowed a command only when **one single team** they are a member of grants the
command and every app and service it touches. Teams are never combined. Owners manage a
team's people; they get no member rights unless they are members too.
"""

from __future__ import annotations

from .names import ADMIN_TEAM

VIEW_VERSION = 1

DEFAULT_PROGRAMS = {
    "dokku": "/usr/bin/dokku",
    "docker": "/usr/bin/docker",
    "docker-over-ssh": "/usr/local/bin/docker-over-ssh",
}

# teams:* verbs and who may use them (the owner/admin rules of Dokku Pro).
TEAM_VERBS_ANYONE = frozenset(("whoami", "list", "team-report", "report", "whois"))
TEAM_VERBS_OWNER = frozenset(("member-add", "member-remove", "owner-add", "owner-remove",
                              "members-add", "members-remove", "owners-add", "owners-remove", "destroy"))
TEAM_VERBS_ADMIN = frozenset(("create", "command-add", "command-remove", "app-add", "app-remove",
                              "service-add", "service-remove", "commands-add", "commands-remove",
                              "apps-add", "apps-remove", "services-add", "services-remove"))


def compile_view(state, user, fingerprints):
    """The view the gate reads for ``user``: their teams' effective grants, nothing else.

    ``state`` is the validated state document; ``fingerprints`` the user's key fingerprints.
    Lists are sorted so that an unchanged policy compiles to identical bytes.
    """
    teams = state["teams"]
    admin = user in teams.get(ADMIN_TEAM, {}).get("members", ())
    grants = []
    owns = []
    member_of = []
    for name in sorted(teams):
        team = teams[name]
        if user in team.get("owners", ()):
            owns.append(name)
        if user not in team.get("members", ()):
            continue
        member_of.append(name)
        if name == ADMIN_TEAM:
            continue
        apps = sorted(team.get("apps", ()))
        grants.append({
            "team": name,
            "commands": sorted(team.get("commands", ())),
            "apps": [app for app in apps if app != "*"],
            "all_apps": "*" in apps,
            "services": sorted([service["type"], service["name"]] for service in team.get("services", ())),
        })
    return {"version": VIEW_VERSION, "user": user, "admin": admin, "fingerprints": sorted(fingerprints),
            "teams": grants, "owns": owns, "member_of": member_of}


def glob_match(pattern, text):
    """``*`` matches any run of characters; everything else is literal; the match is anchored."""
    if "*" not in pattern:
        return pattern == text
    parts = pattern.split("*")
    first, last = parts[0], parts[-1]
    if not text.startswith(first) or not text.endswith(last) or len(text) < len(first) + len(last):
        return False
    position = len(first)
    end = len(text) - len(last)
    for part in parts[1:-1]:
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def grants_command(patterns, command, literal_only):
    """Whether a team's command list grants ``command`` (globs skipped for host escapes)."""
    if command in patterns:
        return True
    if literal_only:
        return False
    for pattern in patterns:
        if "*" in pattern and glob_match(pattern, command):
            return True
    return False


def _grants_app(team, app):
    return team["all_apps"] or app in team["apps"]


def _grants_service(team, service):
    kind, name = service
    for granted_kind, granted_name in team["services"]:
        if (granted_kind == "*" or granted_kind == kind) and (granted_name == "*" or granted_name == name):
            return True
    return False


def service_missing(service):
    """Dokku's own words for a service that does not exist (the datastore plugins' message)."""
    kind, name = service
    return "%s service %s does not exist" % (kind[:1].upper() + kind[1:], name)


class Decision(object):
    __slots__ = ("allowed", "reason", "code", "request", "argv", "team", "filter_apps", "filter_all")

    def __init__(self, allowed, reason, request, argv=None, team=None):
        self.allowed = allowed
        self.reason = reason
        self.code = 0 if allowed else 77
        self.request = request
        self.argv = argv
        self.team = team
        self.filter_apps = None     # for listings: the apps the caller may see
        self.filter_all = False

    def as_dict(self):
        out = {"decision": "allow" if self.allowed else "deny", "reason": self.reason}
        out.update(self.request.as_dict())
        out["argv"] = self.argv
        out["team"] = self.team
        return out


def _argv(request, programs):
    if request.program == "teams":
        return None
    return [programs[request.program]] + list(request.argv)


def decide(view, request, programs=None):
    """Allow or deny ``request`` for the user whose compiled ``view`` is given, and say why."""
    programs = programs or DEFAULT_PROGRAMS
    if view["admin"]:
        decision = Decision(True, "admin (member of %s)" % ADMIN_TEAM, request, _argv(request, programs), ADMIN_TEAM)
        decision.filter_all = True
        return decision
    if request.program == "teams":
        return _decide_teams(view, request)
    if request.unknown_options:
        return Decision(False, "option %s is not accepted by %s" % (request.unknown_options[0], request.command),
                        request)
    if request.admin_reason:
        return Decision(False, request.admin_reason, request)
    teams = view["teams"]
    # Opaque first: an app or service no team of the user grants gets Dokku's own answer, the
    # same whether it exists or not (decided from the view alone, so it takes the same time).
    for app in request.apps:
        if not any(_grants_app(team, app) for team in teams):
            return Decision(False, "App %s does not exist" % app, request)
    for service in request.services:
        if not any(_grants_service(team, service) for team in teams):
            return Decision(False, service_missing(service), request)
    for service in request.new_services:
        if not any(_grants_service(team, service) for team in teams):
            return Decision(False, service_missing(service), request)
    command = request.command
    literal_only = request.escape
    for team in teams:
        if not grants_command(team["commands"], command, literal_only):
            continue
        if not all(_grants_app(team, app) for app in request.apps):
            continue
        if not all(_grants_service(team, service) for service in request.services + request.new_services):
            continue
        decision = Decision(True, "granted by team %s" % team["team"], request, _argv(request, programs),
                            team["team"])
        if request.output_filter:
            _listing_scope(decision, teams, command)
        return decision
    where = " on %s" % ", ".join(request.apps) if request.apps else ""
    if literal_only and any(grants_command(team["commands"], command, False) for team in teams):
        return Decision(False, "%s reaches the host: a team must grant it by its exact name" % command, request)
    return Decision(False, "You are not allowed to run %s%s" % (command, where), request)


def _listing_scope(decision, teams, command):
    """A listing shows what the teams that grant the listing command hold, nothing more."""
    kind = decision.request.output_filter
    names = set()
    for team in teams:
        if not grants_command(team["commands"], command, False):
            continue
        if kind == "apps":
            decision.filter_all = decision.filter_all or team["all_apps"]
            names.update(team["apps"])
        else:
            wanted = kind.partition(":")[2]
            for granted_kind, granted_name in team["services"]:
                if granted_kind in ("*", wanted):
                    if granted_name == "*":
                        decision.filter_all = True
                    else:
                        names.add(granted_name)
    decision.filter_apps = sorted(names)


def _decide_teams(view, request):
    verb = request.command.partition(":")[2]
    args = request.teams_args
    if verb in TEAM_VERBS_ANYONE:
        return Decision(True, "teams:%s is open to every user" % verb, request)
    if verb in TEAM_VERBS_ADMIN:
        return Decision(False, "teams:%s is restricted to admins" % verb, request)
    if verb in TEAM_VERBS_OWNER:
        team = args[0] if args else ""
        if team == ADMIN_TEAM:
            # Owning dokku@admin (a state that should not exist) never makes anyone an admin.
            return Decision(False, "only admins may change %s" % ADMIN_TEAM, request)
        if team in view["owns"]:
            return Decision(True, "owner of team %s" % team, request, team=team)
        if team in view["member_of"]:
            return Decision(False, "only owners of team %s may do that" % team, request)
        return Decision(False, "Team %s does not exist" % team if team else "teams:%s needs a team" % verb, request)
    return Decision(False, "unknown teams command teams:%s" % verb, request)
