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

from .errors import EX_DENIED, EX_MALFORMED
from .gateconfig import DEFAULT_PROGRAMS
from .names import ADMIN_TEAM, is_app_team

VIEW_VERSION = 1


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
    """Allowed or not, and why. ``reason`` is what the caller is told; ``detail`` is the real
    reason when that differs (an app answered as missing that exists, ...), for the admin's audit
    log and ``dokku-teams check`` only."""

    __slots__ = ("allowed", "reason", "code", "request", "argv", "team", "filter_apps", "filter_all", "detail")

    def __init__(self, allowed, reason, request, argv=None, team=None, code=None, detail=None):
        self.allowed = allowed
        self.reason = reason
        self.code = 0 if allowed else (EX_DENIED if code is None else code)
        self.request = request
        self.argv = argv
        self.team = team
        self.filter_apps = None     # for listings: the apps the caller may see
        self.filter_all = False
        self.detail = detail

    @property
    def decision(self):
        return "allow" if self.allowed else ("malformed" if self.code == EX_MALFORMED else "deny")

    def as_dict(self):
        out = {"decision": self.decision, "reason": self.reason}
        if self.detail:
            out["detail"] = self.detail
        out.update(self.request.as_dict())
        out["argv"] = self.argv
        out["team"] = self.team
        return out


def _argv(request, programs):
    if request.program == "teams":
        return None
    return [programs[request.program]] + list(request.argv)


def _team_may_grant(team, request):
    """An app team (``dokku@app--APP``, made when a user created APP) holds ``*`` for that app's
    own commands only: never a command that touches no app, creates an app or lists."""
    if not is_app_team(team["team"]):
        return True
    return bool(request.apps) and not request.new_apps and not request.output_filter


def decide(view, request, programs=None, held=None):
    """Allow or deny ``request`` for the user whose compiled ``view`` is given, and say why.

    ``held(app)`` answers, for a new app name (apps:create/rename/clone), whether another team
    holds that name or it exists on the host; without it every new name counts as free."""
    programs = programs or DEFAULT_PROGRAMS
    if view["admin"]:
        decision = Decision(True, "admin (member of %s)" % ADMIN_TEAM, request, _argv(request, programs), ADMIN_TEAM)
        decision.filter_all = True
        return decision
    if request.program == "teams":
        return _decide_teams(view, request)
    if request.invalid_reason:
        return Decision(False, request.invalid_reason, request, code=EX_MALFORMED)
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
            return Decision(False, "App %s does not exist" % app, request,
                            detail="no team of %s grants the app %s" % (view["user"], app))
    for service in tuple(request.services) + tuple(request.new_services):
        if not any(_grants_service(team, service) for team in teams):
            return Decision(False, service_missing(service), request,
                            detail="no team of %s grants the %s service %s" % (view["user"], service[0], service[1]))
    for app in request.new_apps:
        # A name another team holds, or an app that exists, is answered like a missing app:
        # creating it must neither take it over nor tell that it exists.
        if held is not None and held(app):
            return Decision(False, "App %s does not exist" % app, request,
                            detail="the new app name %s is held by another team or exists on the host" % app)
    command = request.command
    literal_only = request.escape
    for team in teams:
        if not _team_may_grant(team, request):
            continue
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
        if is_app_team(team["team"]):
            # The apps the user created are theirs to see wherever the listing is granted.
            if kind == "apps":
                names.update(team["apps"])
            continue
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
    spec = request.spec
    verb = request.command.partition(":")[2]
    args = request.teams_args
    if spec is None:
        return Decision(False, "unknown teams command teams:%s" % verb, request)
    if spec.who == "anyone":
        return Decision(True, "teams:%s is open to every user" % verb, request)
    if spec.who == "admin":
        return Decision(False, "teams:%s is restricted to admins" % verb, request)
    team = args[0] if args else ""
    if team == ADMIN_TEAM:
        # Owning dokku@admin (a state that should not exist) never makes anyone an admin.
        return Decision(False, "only admins may change %s" % ADMIN_TEAM, request)
    if team in view["owns"]:
        return Decision(True, "owner of team %s" % team, request, team=team)
    if team in view["member_of"]:
        return Decision(False, "only owners of team %s may do that" % team, request)
    return Decision(False, "Team %s does not exist" % team if team else "teams:%s needs a team" % verb, request)
