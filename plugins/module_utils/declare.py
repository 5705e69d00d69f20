# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The declarations of the list modules, checked and applied to a state in one pass each.

``dokku_ci_user`` and ``dokku_team`` apply them to the host's state; ``dokku_team_plan``
applies both to a copy before the role changes anything, so a bad key, name or reference
fails first and the teams can be previewed against the users the run would create.
"""

from __future__ import annotations

from . import names, sshkeys
from .errors import Invalid
from .names import check_user
from .state import TEAM_FIELDS


def user_item_options():
    """The argument spec of one item of ``users``."""
    options = dict(
        name=dict(type="str", required=True),
        keys=dict(type="list", elements="str", no_log=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        exclusive_keys=dict(type="bool", no_log=False),
    )
    options["from"] = dict(type="list", elements="str")
    return options


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
    options = dict(name=dict(type="str", required=True),
                   state=dict(type="str", choices=["present", "absent"], default="present"))
    options.update(team_field_options())
    return options


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


def _check_key_owners(current, users, declared):
    """A key two users would hold is the mistake of the declaration that gives it to someone
    new: name that user (the state's own check blames whichever of the two sorts first)."""
    holders = {}
    for name, record in users.items():
        for line in record["keys"]:
            holders.setdefault(sshkeys.parse_key(line).blob_b64, []).append(name)
    had = {}
    for name, record in current["users"].items():
        had[name] = set(sshkeys.parse_key(line).blob_b64 for line in record["keys"])
    for already in (False, True):
        for item in declared:
            for index, (blob, line) in enumerate(item["keys"].items()):
                if (blob in had.get(item["name"], ())) != already:
                    continue
                others = [other for other in holders.get(blob, ()) if other != item["name"]]
                if others:
                    raise Invalid("user %s: keys[%d]: key %s already belongs to user %s: a key identifies one"
                                  " user" % (item["name"], index, sshkeys.parse_key(line).fingerprint, others[0]))


def user_declarations(params):
    """The users a call declares, checked, as a list of dicts (single form: a list of one)."""
    if params["users"] is None:
        items = [dict(name=params["name"], keys=params["keys"], state=params["state"],
                      exclusive_keys=params["exclusive_keys"], **{"from": params["from"]})]
    else:
        items = params["users"]
    out = []
    seen = set()
    for item in items:
        name = item["name"]
        check_user(name)
        if name in seen:
            raise Invalid("user %s is declared twice" % name)
        seen.add(name)
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


def apply_users(current, items, purge):
    """The state with ``items`` applied: one pass, whatever the number of users (the result is
    validated afterwards, which also checks that no key belongs to two users)."""
    users = dict(current["users"])
    listed = set(item["name"] for item in items)
    gone = set(name for name in users if purge and name not in listed)
    for item in items:
        name = item["name"]
        if item["state"] == "absent":
            if name in users:
                gone.add(name)
            continue
        record = users.get(name)
        keys = item["keys"]
        if record is None:
            if not keys:
                raise Invalid("user %s does not exist: give keys to create it" % name)
            lines = list(keys.values())
            from_ = item["from"] or []
        else:
            if keys is None:
                lines = list(record["keys"])
            elif item["exclusive_keys"]:
                lines = list(keys.values())
            else:
                have = set(sshkeys.parse_key(line).blob_b64 for line in record["keys"])
                lines = list(record["keys"]) + [line for blob, line in keys.items() if blob not in have]
            from_ = record["from"] if item["from"] is None else item["from"]
        if not lines:
            raise Invalid("user %s needs at least one SSH public key: remove the user instead" % name)
        users[name] = {"keys": sorted(lines), "from": sorted(set(from_))}
    for name in gone:
        users.pop(name, None)
    _check_key_owners(current, users, [item for item in items if item["state"] != "absent" and item["keys"]])
    teams = current["teams"]
    if gone:
        teams = {}
        for team, record in current["teams"].items():
            if gone.intersection(record["owners"]) or gone.intersection(record["members"]):
                record = dict(record, owners=[user for user in record["owners"] if user not in gone],
                              members=[user for user in record["members"] if user not in gone])
            teams[team] = record
    return dict(current, users=users, teams=teams)


def team_declarations(params):
    if params["teams"] is None:
        items = [dict((field, params[field]) for field in ("name", "state") + TEAM_FIELDS)]
    else:
        items = params["teams"]
    out = []
    seen = set()
    for item in items:
        name = item["name"]
        names.check_team(name)
        if name in seen:
            raise Invalid("team %s is declared twice" % name)
        seen.add(name)
        record = dict((field, item.get(field)) for field in ("name",) + TEAM_FIELDS)
        record["state"] = item.get("state") or "present"
        out.append(record)
    return out


def apply_teams(current, items, purge=False, purge_app_teams=False):
    """The state with the team declarations applied, in one pass."""
    users = current["users"]
    teams = dict(current["teams"])
    listed = set(item["name"] for item in items)
    for item in items:
        name = item["name"]
        if item["state"] == "absent":
            if name == names.ADMIN_TEAM:
                raise Invalid("team %s cannot be destroyed: its members are the admins" % names.ADMIN_TEAM)
            teams.pop(name, None)
            continue
        record = teams.get(name)
        if record is None:
            names.check_new_team(name)
            record = {"owners": [], "members": [], "commands": [], "apps": [], "services": []}
        record = dict(record)
        for field in TEAM_FIELDS:
            value = item[field]
            if value is None:
                continue
            if field in ("owners", "members"):
                unknown = sorted(set(user for user in value if user not in users))
                if unknown:
                    raise Invalid("team %s: %s: unknown user %s: declare users with dokku_ci.teams.dokku_ci_user"
                                  " before naming them in a team" % (name, field, ", ".join(unknown)))
            if field == "services":
                value = [{"type": service["type"], "name": service["name"]} for service in value]
            record[field] = list(value)
        teams[name] = record
    if purge:
        for name in list(teams):
            if name in listed or name == names.ADMIN_TEAM:
                continue
            if names.is_app_team(name) and not purge_app_teams:
                continue
            del teams[name]
    return dict(current, teams=teams)
