# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The declarations of the list modules: their argument specs, and their items checked.

``state.declare_users`` and ``state.declare_teams`` apply the items in one pass each.
``dokku_ci_user`` and ``dokku_team`` apply them to the host's state; ``dokku_team_plan``
applies both to a copy before the role changes anything, so a bad key, name or reference
fails first and the teams can be previewed against the users the run would create.
"""

from __future__ import annotations

from collections import Counter

from . import names, removal, sshkeys
from . import state as statelib
from .errors import Invalid
from .names import check_user
from .state import TEAM_FIELDS

PRESENCE = dict(type="str", choices=["present", "absent"], default="present")


def user_item_options():
    """The argument spec of one item of ``users``."""
    options = dict(
        name=dict(type="str", required=True),
        keys=dict(type="list", elements="str", no_log=False),
        state=dict(PRESENCE),
        exclusive_keys=dict(type="bool", no_log=False),
    )
    options["from"] = dict(type="list", elements="str")
    return options


def user_list_options():
    """``users`` and its default ``exclusive_keys`` (doc fragment ``dokku_teams.users``)."""
    return dict(users=dict(type="list", elements="dict", options=user_item_options()),
                exclusive_keys=dict(type="bool", default=False, no_log=False))


def removal_options():
    """The purge and its guard (doc fragment ``dokku_teams.removal``)."""
    return dict(purge=dict(type="bool", default=False),
                allow_mass_removal=dict(type="bool", default=False),
                max_removal_share=dict(type="float", default=removal.DEFAULT_SHARE))


def team_field_options():
    """The argument spec of a team's lists (``dokku_team``'s single form takes them too)."""
    service = dict(type=dict(type="str", required=True), name=dict(type="str", required=True))
    return dict(
        owners=dict(type="list", elements="str"),
        members=dict(type="list", elements="str"),
        commands=dict(type="list", elements="str"),
        apps=dict(type="list", elements="str"),
        services=dict(type="list", elements="dict", options=service),
    )


def team_item_options():
    """The argument spec of one item of ``teams``."""
    options = dict(name=dict(type="str", required=True), state=dict(PRESENCE))
    options.update(team_field_options())
    return options


def team_list_options():
    """``teams`` and what goes with it (doc fragment ``dokku_teams.teams``)."""
    return dict(teams=dict(type="list", elements="dict", options=team_item_options()),
                purge_app_teams=dict(type="bool", default=False),
                lint=dict(type="bool", default=True))


def _declared_keys(name, keys):
    """Parsed keys, one per key blob (the first spelling wins)."""
    out = {}
    for index, line in enumerate(keys):
        try:
            key = sshkeys.parse_key(line)
        except Invalid as error:
            raise Invalid("user %s: keys[%d]: %s" % (name, index, error.message))
        out.setdefault(key.blob_b64, key.line)
    return out


def declaration_problems(users, teams, purge):
    """What only the whole declaration shows, every offender at once (the per-item checks stop
    at the first): names declared twice, and owners or members that are no declared user (with
    purge) or a user the declaration marks absent. ``None`` when there is nothing to fix."""
    def twice(items):
        counted = Counter(item["name"] for item in items)
        return sorted(name for name, count in counted.items() if count > 1)

    def present(items):
        return [item for item in items if (item.get("state") or "present") == "present"]

    referenced = set()
    for team in present(teams):
        referenced.update((team.get("owners") or []) + (team.get("members") or []))
    if purge:
        unknown = referenced - set(user["name"] for user in present(users))
    else:
        unknown = referenced & set(user["name"] for user in users if user.get("state") == "absent")
    users_twice, teams_twice = twice(users), twice(teams)
    if not (users_twice or teams_twice or unknown):
        return None
    return ("Fix the declared users and teams. Users declared more than once: %s. Teams declared more than"
            " once: %s. Owners or members that are not declared users%s: %s."
            % (", ".join(users_twice) or "none", ", ".join(teams_twice) or "none",
               "" if purge else " or are marked absent", ", ".join(sorted(unknown)) or "none"))


def _each_once(items, check, what):
    """The items in order, each name checked (``check``) and named once only."""
    seen = set()
    for item in items:
        name = item["name"]
        check(name)
        if name in seen:
            raise Invalid("%s %s is declared twice" % (what, name))
        seen.add(name)
        yield item


def user_declarations(params):
    """The users a call declares, checked, as a list of dicts (single form: a list of one)."""
    if params["users"] is None:
        items = [dict(name=params["name"], keys=params["keys"], state=params["state"],
                      exclusive_keys=params["exclusive_keys"], **{"from": params["from"]})]
    else:
        items = params["users"]
    out = []
    for item in _each_once(items, check_user, "user"):
        name = item["name"]
        exclusive = item.get("exclusive_keys")
        if exclusive is None:
            exclusive = params["exclusive_keys"]
        keys = item.get("keys")
        out.append({
            "name": name,
            "state": item.get("state") or "present",
            "keys": None if keys is None else _declared_keys(name, keys),
            "from": None if item.get("from") is None else sshkeys.check_from(list(item["from"])),
            "exclusive_keys": exclusive,
        })
    return out


def team_declarations(params):
    """The teams a call declares, checked, as a list of dicts (single form: a list of one)."""
    if params["teams"] is None:
        items = [dict((field, params[field]) for field in ("name", "state") + TEAM_FIELDS)]
    else:
        items = params["teams"]
    out = []
    for item in _each_once(items, names.check_team, "team"):
        record = dict((field, item.get(field)) for field in ("name",) + TEAM_FIELDS)
        record["state"] = item.get("state") or "present"
        out.append(record)
    return out


def _unchanged(state):
    return state


def declare_users(current, items, params, settle=_unchanged):
    """``state.declare_users`` under the purge guard, as ``dokku_ci_user`` and the plan run it;
    ``settle`` (the plan: validation) runs between the two."""
    new = settle(statelib.declare_users(current, items, params["purge"]))
    removal.guard(current, new, params["allow_mass_removal"], params["max_removal_share"],
                  purge=params["purge"], teams=False)
    return new


def declare_teams(current, items, params, settle=_unchanged):
    """``state.declare_teams`` under the purge guard, as ``dokku_team`` and the plan run it."""
    purge_app_teams = params["purge_app_teams"]
    new = settle(statelib.declare_teams(current, items, params["purge"], purge_app_teams))
    removal.guard(current, new, params["allow_mass_removal"], params["max_removal_share"],
                  purge=params["purge"], users=False, purge_app_teams=purge_app_teams)
    return new
