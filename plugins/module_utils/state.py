# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy document in memory: validation, normalisation and pure mutations.

The state is a plain dict (see docs/DESIGN.md): ``version``, ``serial``, ``users`` and
``teams``. ``validate`` returns a normalised copy (every team has all five fields, every list
sorted and free of duplicates) so that equal policies serialise to equal bytes. Every
mutation returns a NEW dict and leaves its input untouched; a bad argument raises
``errors.Invalid`` with a message that says what is wrong. No I/O here: ``store.py`` reads,
locks and writes.

The owner rule (SPEC §4, "a team keeps >= 1 owner") is a rule about *removing owners*:

- ``remove_members(..., role="owner")`` refuses to remove the last owner of a team
  ("team web must keep at least one owner"): owners cannot orphan their team.
- A team with no owner at all is valid: it is managed by admins only. That is what
  ``create_team`` makes (admins add people afterwards), what an inventory declaration
  without ``owners`` means, and what ``remove_user`` leaves when the removed user was the
  last owner (removing a person must always be possible; admins then name a new owner).
- ``set_team`` is an admin's full declaration and may set ``owners=[]`` explicitly.
- ``dokku@admin`` never has owners (admins manage it); ``dokku@app--APP`` teams follow the
  ordinary rule.
"""

from __future__ import annotations

from . import names
from .errors import Invalid, StateError
from .names import ADMIN_TEAM, APP_TEAM_PREFIX, show
from .sshkeys import check_from, parse_key

VERSION = 1
TEAM_FIELDS = ("owners", "members", "commands", "apps", "services")
USER_FIELDS = ("keys", "from")
ROLES = ("member", "owner")

_KEY_CACHE = {}


def _parse_key(line):
    """``sshkeys.parse_key`` with a cache (parsing is pure; validation re-parses every key)."""
    key = _KEY_CACHE.get(line)
    if key is None:
        key = parse_key(line)
        if len(_KEY_CACHE) > 200000:
            _KEY_CACHE.clear()
        _KEY_CACHE[line] = key
    return key


def _empty_team():
    return {"owners": [], "members": [], "commands": [], "apps": [], "services": []}


def empty_state():
    return {"version": VERSION, "serial": 0, "users": {}, "teams": {ADMIN_TEAM: _empty_team()}}


def _copy(value):
    """A deep copy of a state (a validated one quickly; anything else generically)."""
    if isinstance(value, dict) and "users" in value and "teams" in value:
        try:
            return _copy_state(value)
        except (KeyError, TypeError, AttributeError, ValueError):
            pass
    return _copy_any(value)


def _copy_state(state):
    out = dict(state)
    out["users"] = {name: {"keys": list(user["keys"]), "from": list(user["from"])}
                    for name, user in state["users"].items()}
    out["teams"] = {name: {"owners": list(team["owners"]), "members": list(team["members"]),
                           "commands": list(team["commands"]), "apps": list(team["apps"]),
                           "services": [{"type": item["type"], "name": item["name"]} for item in team["services"]]}
                    for name, team in state["teams"].items()}
    for name, user in state["users"].items():
        if len(user) != 2:
            raise ValueError(name)
    for name, team in state["teams"].items():
        if len(team) != 5 or any(len(item) != 2 for item in team["services"]):
            raise ValueError(name)
    return out


def _copy_any(value):
    kind = type(value)
    if kind is dict:
        return {key: _copy_any(item) for key, item in value.items()}
    if kind is list:
        return [_copy_any(item) for item in value]
    return value


def app_team(app):
    return APP_TEAM_PREFIX + app


# --------------------------------------------------------------------------------------------
# Validation


def _path(*parts):
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out


def _fail(path, message):
    raise Invalid("%s: %s" % (path, message))


def _checked(path, check, value):
    try:
        return check(value)
    except Invalid as exc:
        _fail(path, exc.message)


def _dict(path, value):
    if not isinstance(value, dict):
        _fail(path, "must be an object, not %s" % _kind(value))
    return value


def _list(path, value):
    if not isinstance(value, list):
        _fail(path, "must be a list, not %s" % _kind(value))
    return value


def _integer(value):
    """An int, and not a bool (``isinstance(True, int)`` is true)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _unknown(path, value, allowed):
    for key in value:
        if key not in allowed:
            _fail(path, "unknown field %s (allowed: %s)" % (show(key), ", ".join(allowed)))


def _sorted_unique(items):
    return sorted(set(items))


def _check_service_pair(path, kind, name):
    if kind != "*":
        _checked(path + ".type", names.check_service_type, kind)
    elif name != "*":
        _fail(path, "a service grant for every type (*) must name every service (*) too")
    if name != "*":
        _checked(path + ".name", names.check_service_name, name)


def _service(path, value):
    """A service grant as {"type", "name"}; also accepts a [type, name] pair."""
    if type(value) in (list, tuple):
        if len(value) != 2:
            _fail(path, "a service grant is a type and a name")
        kind, name = value
    else:
        _dict(path, value)
        _unknown(path, value, ("type", "name"))
        if "type" not in value or "name" not in value:
            _fail(path, "a service grant needs both type and name")
        kind, name = value["type"], value["name"]
    if not isinstance(kind, str) or not isinstance(name, str):
        _fail(path, "service type and name must be strings")
    _check_service_pair(path, kind, name)
    return (kind, name)


def _services_out(pairs):
    return [{"type": kind, "name": name} for kind, name in sorted(set(pairs))]


def _check_team_rules(name, team, where="teams"):
    """The special teams' fixed permissions (fields already normalised)."""
    base = _path(where, name)
    if name == ADMIN_TEAM:
        for field in ("owners", "commands", "apps", "services"):
            if team[field]:
                _fail(base + "." + field, "the permissions of %s cannot be changed: its members are the admins,"
                      " it has no owners, commands, apps or services" % ADMIN_TEAM)
    elif names.is_app_team(name):
        app = name[len(APP_TEAM_PREFIX):]
        if team["apps"] != [app] or team["commands"] != ["*"]:
            _fail(base, "an app team grants exactly apps ['%s'] and commands ['*']" % app)


def _check_header(doc, internal):
    """The document's ``version`` (and ``serial`` when ``internal``) as the result's start."""
    _dict("document", doc)
    _unknown("document", doc, ("version", "serial", "users", "teams"))
    if "version" not in doc:
        _fail("version", "missing (this code reads version %d)" % VERSION)
    version = doc["version"]
    if not _integer(version) or version != VERSION:
        shown = str(version) if _integer(version) else show(version)
        _fail("version", "unsupported version %s (this code reads version %d)" % (shown, VERSION))
    out = {"version": VERSION}
    if internal:
        serial = doc.get("serial")
        if not _integer(serial) or serial < 0:
            _fail("serial", "must be a non-negative integer, not %s" % show(serial))
        out["serial"] = serial
    return out


def _user_keys(base, user, lines, blobs):
    """``user``'s key lines, one per key; ``blobs`` (key -> user, across users) says who holds
    which key so far, since a key identifies one user."""
    keys = {}
    for index, line in enumerate(lines):
        key = _KEY_CACHE.get(line) if isinstance(line, str) else None
        if key is None:
            key = _checked(_path(base, "keys", index), _parse_key, line)
        owner = blobs.get(key.blob_b64)
        if owner == user:
            if keys.get(key.blob_b64) != key.line:
                _fail(_path(base, "keys", index), "the same key (%s) is listed twice" % key.fingerprint)
            continue
        if owner is not None:
            _fail(_path(base, "keys", index), "key %s already belongs to user %s: a key identifies one"
                  " user" % (key.fingerprint, owner))
        blobs[key.blob_b64] = user
        keys[key.blob_b64] = key.line
    if not keys:
        _fail(base + ".keys", "a user needs at least one SSH public key")
    return sorted(keys.values())


def _validate_users(users_in):
    users = {}
    blobs = {}
    for user in sorted(users_in):
        base = "users." + str(user)
        if not names.USER.match(user):
            _checked(base, names.check_user, user)
        record = _dict(base, users_in[user])
        _unknown(base, record, USER_FIELDS)
        if "keys" not in record:
            _fail(base, "a user needs keys (one or more SSH public keys)")
        keys = _user_keys(base, user, _list(base + ".keys", record["keys"]), blobs)
        from_list = _list(base + ".from", record.get("from", []))
        if from_list:
            from_list = _sorted_unique(_checked(base + ".from", check_from, from_list))
        users[user] = {"keys": keys, "from": from_list}
    return users


def _validate_team(base, record, users):
    """One team's five fields, checked and normalised (the special teams' rules aside)."""
    team = {}
    for field in ("owners", "members"):
        people = _list(base + "." + field, record.get(field, []))
        for index, person in enumerate(people):
            if not isinstance(person, str) or person not in users:
                _fail(_path(base, field, index), "unknown user %s: declare the user first" % show(person))
        team[field] = _sorted_unique(people)
    commands = _list(base + ".commands", record.get("commands", []))
    for index, command in enumerate(commands):
        if not names.COMMAND_GRANT.match(command):
            _checked(_path(base, "commands", index), names.check_command_grant, command)
    team["commands"] = _sorted_unique(commands)
    apps = _list(base + ".apps", record.get("apps", []))
    for index, app in enumerate(apps):
        if app != "*" and not names.APP.match(app):
            _checked(_path(base, "apps", index), names.check_app_grant, app)
    team["apps"] = _sorted_unique(apps)
    services = _list(base + ".services", record.get("services", []))
    team["services"] = _services_out(_service(_path(base, "services", index), service)
                                     for index, service in enumerate(services)) if services else []
    return team


def _validate_teams(teams_in, users):
    teams = {}
    for name in sorted(teams_in):
        base = "teams." + str(name)
        if not names.valid_team(name):
            _checked(base, names.check_team, name)
        record = _dict(base, teams_in[name])
        _unknown(base, record, TEAM_FIELDS)
        team = _validate_team(base, record, users)
        _check_team_rules(name, team)
        teams[name] = team
    if ADMIN_TEAM not in teams:
        teams[ADMIN_TEAM] = _empty_team()
    return teams


def validate(doc, internal=True):
    """A normalised copy of ``doc``, or ``Invalid`` naming the bad field.

    ``internal=True``: the stored state (``serial`` required). ``internal=False``: a policy
    document (``serial`` ignored if present, and left out of the result).
    """
    out = _check_header(doc, internal)
    users_in = _dict("users", doc.get("users", {}))
    teams_in = _dict("teams", doc.get("teams", {}))
    out["users"] = _validate_users(users_in)
    out["teams"] = _validate_teams(teams_in, out["users"])
    return out


def export(state):
    """The policy document: the state without its internals (``serial``)."""
    doc = _copy(state)
    doc.pop("serial", None)
    return doc


def import_document(doc):
    """A validated state from a policy document (its ``serial`` is the store's business)."""
    out = validate(doc, internal=False)
    out["serial"] = 0
    return out


# --------------------------------------------------------------------------------------------
# Helpers for mutations


def _names(value, what):
    """A str or a list of str as a list (a bare string is one name, not its characters)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise Invalid("%s must be a list, not %s" % (what, _kind(value)))
    return list(value)


def _user(state, name):
    names.check_user(name)
    if name not in state["users"]:
        raise Invalid("unknown user %s" % show(name))
    return state["users"][name]


def _team(state, name):
    names.check_team(name)
    if name not in state["teams"]:
        raise Invalid("Team %s does not exist" % name)
    return state["teams"][name]


def _keys(keys):
    parsed = [parse_key(line) for line in _names(keys, "keys")]
    if not parsed:
        raise Invalid("a user needs at least one SSH public key")
    return parsed


def _key_owner(state, blob_b64, skip=None):
    for user, record in state["users"].items():
        if user == skip:
            continue
        for line in record["keys"]:
            if _parse_key(line).blob_b64 == blob_b64:
                return user
    return None


def _key_lines(state, user, parsed):
    """Key lines for ``user``: one per blob (first spelling wins), none held by another user."""
    lines = {}
    for key in parsed:
        other = _key_owner(state, key.blob_b64, skip=user)
        if other is not None:
            raise Invalid("key %s already belongs to user %s: a key identifies one user" % (key.fingerprint, other))
        lines.setdefault(key.blob_b64, key.line)
    return sorted(lines.values())


def fingerprints(state, user):
    """The fingerprints of ``user``'s keys (sorted)."""
    return sorted(_parse_key(line).fingerprint for line in state["users"][user]["keys"])


# --------------------------------------------------------------------------------------------
# Users


def add_user(state, name, keys, from_=None):
    names.check_user(name)
    if name in state["users"]:
        raise Invalid("user %s already exists" % name)
    parsed = _keys(keys)
    new = _copy(state)
    new["users"][name] = {"keys": _key_lines(state, name, parsed), "from": _sorted_unique(check_from(from_))}
    return new


def remove_user(state, name):
    """Remove ``name`` and take them out of every team. If they were a team's last owner the
    team is left without owners (admins then name one): removing a person always works."""
    _user(state, name)
    new = _copy(state)
    del new["users"][name]
    new["teams"] = _without_people(new["teams"], set([name]))
    return new


def set_user_keys(state, name, keys):
    _user(state, name)
    parsed = _keys(keys)
    new = _copy(state)
    new["users"][name]["keys"] = _key_lines(state, name, parsed)
    return new


def set_user_from(state, name, from_):
    _user(state, name)
    new = _copy(state)
    new["users"][name]["from"] = _sorted_unique(check_from(from_))
    return new


def add_key(state, name, key):
    """Add one key; a key ``name`` already has (same key data) leaves the state as it is."""
    record = _user(state, name)
    parsed = parse_key(key)
    if any(_parse_key(line).blob_b64 == parsed.blob_b64 for line in record["keys"]):
        return _copy(state)
    new = _copy(state)
    new["users"][name]["keys"] = sorted(record["keys"] + _key_lines(state, name, [parsed]))
    return new


def remove_key(state, name, key):
    """Remove one key, given as its line or its ``SHA256:`` fingerprint (absent: no change).
    A user keeps at least one key: remove the user instead."""
    record = _user(state, name)
    if isinstance(key, str) and key.startswith("SHA256:"):
        def match(parsed):
            return parsed.fingerprint == key
    else:
        blob = parse_key(key).blob_b64

        def match(parsed):
            return parsed.blob_b64 == blob
    keep = [line for line in record["keys"] if not match(_parse_key(line))]
    if len(keep) == len(record["keys"]):
        return _copy(state)
    if not keep:
        raise Invalid("user %s must keep at least one key: remove the user instead" % name)
    new = _copy(state)
    new["users"][name]["keys"] = keep
    return new


# --------------------------------------------------------------------------------------------
# Teams


def create_team(state, name):
    names.check_new_team(name)
    if name in state["teams"]:
        raise Invalid("team %s already exists" % name)
    new = _copy(state)
    new["teams"][name] = _empty_team()
    return new


def destroy_team(state, name):
    _team(state, name)
    _check_destroyable(name)
    new = _copy(state)
    del new["teams"][name]
    return new


def _field(role):
    if role not in ROLES:
        raise Invalid("invalid role %s: use member or owner" % show(role))
    return "owners" if role == "owner" else "members"


def add_members(state, team, users, role="member"):
    _team(state, team)
    field = _field(role)
    users = _names(users, "users")
    for user in users:
        _user(state, user)
    if team == ADMIN_TEAM and field == "owners":
        raise Invalid("team %s has no owners: its members are the admins" % ADMIN_TEAM)
    new = _copy(state)
    record = new["teams"][team]
    record[field] = _sorted_unique(record[field] + users)
    return new


def remove_members(state, team, users, role="member"):
    """Remove people from a role (absent ones: no change). The last owner of a team that has
    owners cannot be removed: "team web must keep at least one owner"."""
    record = _team(state, team)
    field = _field(role)
    users = _names(users, "users")
    for user in users:
        names.check_user(user)
    keep = [user for user in record[field] if user not in users]
    if field == "owners" and record["owners"] and not keep:
        raise Invalid("team %s must keep at least one owner" % team)
    new = _copy(state)
    new["teams"][team][field] = keep
    return new


def _grant_lists(commands, apps, services):
    commands = _names(commands, "commands")
    for command in commands:
        names.check_command_grant(command)
    apps = _names(apps, "apps")
    for app in apps:
        names.check_app_grant(app)
    if isinstance(services, (dict, str)):
        services = [services]
    pairs = []
    for index, service in enumerate(services or ()):
        if isinstance(service, str):
            kind, sep, name = service.partition(":")
            if not sep:
                raise Invalid("invalid service %s: give TYPE:NAME, TYPE:* or *:*" % show(service))
            service = (kind, name)
        pairs.append(_service(_path("services", index), service))
    return commands, apps, pairs


def _check_changeable(team, commands, apps, services):
    if team == ADMIN_TEAM and (commands or apps or services):
        raise Invalid("the permissions of %s cannot be changed: its members may do anything" % ADMIN_TEAM)
    if names.is_app_team(team) and (commands or apps):
        raise Invalid("team %s is an app team: its apps and commands are fixed (services may be granted)" % team)


def add_grants(state, team, commands=(), apps=(), services=()):
    record = _team(state, team)
    commands, apps, pairs = _grant_lists(commands, apps, services)
    _check_changeable(team, commands, apps, pairs)
    new = _copy(state)
    record = new["teams"][team]
    record["commands"] = _sorted_unique(record["commands"] + commands)
    record["apps"] = _sorted_unique(record["apps"] + apps)
    record["services"] = _services_out([(s["type"], s["name"]) for s in record["services"]] + pairs)
    return new


def remove_grants(state, team, commands=(), apps=(), services=()):
    """Remove grants literally: removing ``apps:list`` does not touch ``apps:*``, and the other
    way round (absent grants: no change)."""
    _team(state, team)
    commands, apps, pairs = _grant_lists(commands, apps, services)
    _check_changeable(team, commands, apps, pairs)
    new = _copy(state)
    record = new["teams"][team]
    record["commands"] = [command for command in record["commands"] if command not in commands]
    record["apps"] = [app for app in record["apps"] if app not in apps]
    drop = set(pairs)
    record["services"] = [s for s in record["services"] if (s["type"], s["name"]) not in drop]
    return new


def set_team(state, name, owners=None, members=None, commands=None, apps=None, services=None):
    """An admin's full declaration of a team: each field given replaces the team's; ``None``
    leaves it as it is. Creates the team when missing (not a ``dokku@`` name)."""
    if name in state["teams"]:
        names.check_team(name)
    else:
        names.check_new_team(name)
    new = _copy(state)
    record = new["teams"].setdefault(name, _empty_team())
    for field, value in (("owners", owners), ("members", members)):
        if value is not None:
            people = _names(value, field)
            for user in people:
                _user(state, user)
            record[field] = _sorted_unique(people)
    got_commands, got_apps, pairs = _grant_lists(commands or (), apps or (), services or ())
    if commands is not None:
        record["commands"] = _sorted_unique(got_commands)
    if apps is not None:
        record["apps"] = _sorted_unique(got_apps)
    if services is not None:
        record["services"] = _services_out(pairs)
    try:
        _check_team_rules(name, record)
    except Invalid as exc:
        raise Invalid(exc.message.split(": ", 1)[1])
    return new


# --------------------------------------------------------------------------------------------
# Declarations: many users or teams in one pass (the list modules and the role's plan)
#
# An item is what ``declare.user_declarations`` / ``declare.team_declarations`` make of a
# module's parameters: a field that is ``None`` is left as it is. Both functions are pure and
# linear in the size of the state; the caller validates the result (``validate``), which also
# catches what one item cannot see alone.


def _without_people(teams, gone):
    """``teams`` with the users ``gone`` taken out of every team (a team left without owners
    is managed by admins). Records that name none of them are shared, not copied."""
    out = {}
    for name, record in teams.items():
        if gone.intersection(record["owners"]) or gone.intersection(record["members"]):
            record = dict(record, owners=[user for user in record["owners"] if user not in gone],
                          members=[user for user in record["members"] if user not in gone])
        out[name] = record
    return out


def _declared_lines(record, item):
    """The key lines and ``from`` of one declared user (``record``: the user as they are)."""
    keys = item["keys"]
    if record is None:
        if not keys:
            raise Invalid("user %s does not exist: give keys to create it" % item["name"])
        return list(keys.values()), item["from"] or []
    if keys is None:
        lines = list(record["keys"])
    elif item["exclusive_keys"]:
        lines = list(keys.values())
    else:
        have = set(_parse_key(line).blob_b64 for line in record["keys"])
        lines = list(record["keys"]) + [line for blob, line in keys.items() if blob not in have]
    return lines, record["from"] if item["from"] is None else item["from"]


def _check_key_owners(current, users, declared):
    """A key two users would hold is the mistake of the declaration that gives it to someone
    new: name that user (``validate`` would blame whichever of the two sorts first)."""
    holders = {}
    for name, record in users.items():
        for line in record["keys"]:
            holders.setdefault(_parse_key(line).blob_b64, []).append(name)
    had = {}
    for name, record in current["users"].items():
        had[name] = set(_parse_key(line).blob_b64 for line in record["keys"])
    for already in (False, True):
        for item in declared:
            for index, (blob, line) in enumerate(item["keys"].items()):
                if (blob in had.get(item["name"], ())) != already:
                    continue
                others = [other for other in holders.get(blob, ()) if other != item["name"]]
                if others:
                    raise Invalid("user %s: keys[%d]: key %s already belongs to user %s: a key identifies one"
                                  " user" % (item["name"], index, _parse_key(line).fingerprint, others[0]))


def declare_users(state, items, purge=False):
    """The state with the user declarations applied; ``purge`` removes every user not named.
    A removed user leaves every team, as with ``remove_user``."""
    users = dict(state["users"])
    listed = set(item["name"] for item in items)
    gone = set(name for name in users if purge and name not in listed)
    for item in items:
        name = item["name"]
        if item["state"] == "absent":
            if name in users:
                gone.add(name)
            continue
        lines, from_ = _declared_lines(users.get(name), item)
        if not lines:
            raise Invalid("user %s needs at least one SSH public key: remove the user instead" % name)
        users[name] = {"keys": sorted(lines), "from": _sorted_unique(from_)}
    for name in gone:
        users.pop(name, None)
    _check_key_owners(state, users, [item for item in items if item["state"] != "absent" and item["keys"]])
    teams = _without_people(state["teams"], gone) if gone else state["teams"]
    return dict(state, users=users, teams=teams)


def _check_destroyable(name):
    if name == ADMIN_TEAM:
        raise Invalid("team %s cannot be destroyed: its members are the admins" % ADMIN_TEAM)


def _declared_team(state, record, item):
    """One declared team's record: each field given replaces the team's."""
    record = dict(record) if record is not None else _empty_team()
    for field in TEAM_FIELDS:
        value = item[field]
        if value is None:
            continue
        if field in ("owners", "members"):
            unknown = sorted(set(user for user in value if user not in state["users"]))
            if unknown:
                raise Invalid("team %s: %s: unknown user %s: declare users with dokku_ci.teams.dokku_ci_user"
                              " before naming them in a team" % (item["name"], field, ", ".join(unknown)))
        if field == "services":
            value = [{"type": service["type"], "name": service["name"]} for service in value]
        record[field] = list(value)
    return record


def declare_teams(state, items, purge=False, purge_app_teams=False):
    """The state with the team declarations applied; ``purge`` destroys every team not named
    (never ``dokku@admin``; ``dokku@app--APP`` teams only with ``purge_app_teams``)."""
    teams = dict(state["teams"])
    for item in items:
        name = item["name"]
        if item["state"] == "absent":
            _check_destroyable(name)
            teams.pop(name, None)
            continue
        if name not in teams:
            names.check_new_team(name)
        teams[name] = _declared_team(state, teams.get(name), item)
    if purge:
        listed = set(item["name"] for item in items)
        for name in list(teams):
            if name in listed or name == ADMIN_TEAM:
                continue
            if names.is_app_team(name) and not purge_app_teams:
                continue
            del teams[name]
    return dict(state, teams=teams)


# --------------------------------------------------------------------------------------------
# Apps created, renamed and cloned through the gate


def _merge_app_team(teams, name, source):
    """Put ``source``'s people and services into app team ``name`` (created when missing)."""
    app = name[len(APP_TEAM_PREFIX):]
    record = teams.get(name) or {"owners": [], "members": [], "commands": ["*"], "apps": [app], "services": []}
    record["owners"] = _sorted_unique(record["owners"] + source["owners"])
    record["members"] = _sorted_unique(record["members"] + source["members"])
    record["services"] = _services_out([(s["type"], s["name"]) for s in record["services"] + source["services"]])
    record["commands"] = ["*"]
    record["apps"] = [app]
    teams[name] = record


def create_app_team(state, app, creator):
    """``dokku@app--APP`` for an app a non-admin created: the creator is owner and member;
    apps [APP], commands ["*"]. An existing app team (grants survive apps:destroy) gains the
    creator."""
    names.check_app(app)
    _user(state, creator)
    new = _copy(state)
    _merge_app_team(new["teams"], app_team(app),
                    {"owners": [creator], "members": [creator], "services": []})
    return new


def _apps_follow(state, old, new_app, rename):
    names.check_app(old)
    names.check_app(new_app)
    if old == new_app:
        raise Invalid("the new app name is the old one (%s)" % old)
    new = _copy(state)
    teams = new["teams"]
    old_team, new_team = app_team(old), app_team(new_app)
    for name, record in teams.items():
        if name == old_team or old not in record["apps"]:
            continue
        apps = [app for app in record["apps"] if app != old] if rename else list(record["apps"])
        record["apps"] = _sorted_unique(apps + [new_app])
    if old_team in teams:
        source = teams.pop(old_team) if rename else teams[old_team]
        _merge_app_team(teams, new_team, source)
    return new


def rename_app(state, old, new):
    """Grants follow ``apps:rename``: ``old`` becomes ``new`` in every team, and
    ``dokku@app--old`` becomes ``dokku@app--new`` (merged into it if that already exists)."""
    return _apps_follow(state, old, new, rename=True)


def clone_app(state, old, new):
    """Grants follow ``apps:clone``: every team listing ``old`` also lists ``new``;
    ``dokku@app--old``'s people get ``dokku@app--new`` (merged into it if it exists)."""
    return _apps_follow(state, old, new, rename=False)


# --------------------------------------------------------------------------------------------
# Reports


def host_escape_grants(state):
    """``(team, command)`` for every host-escape command a team grants by name (to flag)."""
    from .commands import host_escape_commands
    escapes = host_escape_commands()
    return sorted((name, command) for name, team in state["teams"].items()
                  for command in team["commands"] if command in escapes)


__all__ = ["StateError", "VERSION", "empty_state", "validate", "export", "import_document", "add_user",
           "remove_user", "set_user_keys", "set_user_from", "add_key", "remove_key", "create_team",
           "destroy_team", "add_members", "remove_members", "add_grants", "remove_grants", "set_team",
           "declare_users", "declare_teams", "create_app_team", "rename_app", "clone_app",
           "host_escape_grants", "fingerprints", "app_team"]
