# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``dokku-ci-user``: the seed project's workflow, kept working on top of teams.

    cat key.pub | ssh root@host "dokku-ci-user add:user --name N --app A --app B [--from CIDR]"
    ssh root@host "dokku-ci-user remove:user --name N"
    ssh root@host dokku-ci-user list

``add:user`` declares the user with the key from stdin and a personal team ``ci-N`` granting
the seed's commands on those apps. The bot is the team's only member and never its owner
(the team has none: admins manage it), so a leaked CI key cannot hand the team's rights to
anyone else. ``--from`` limits where the key is accepted from, like a declared user's
``from``. ``list`` shows the bots (users with a ``ci-N`` team), not every user. The seed allowed
``tags:deploy``, which left Dokku in 0.26; its successors ``git:from-image`` and
``git:load-image`` are granted beside it, so the same CI job keeps deploying images.
"""

from __future__ import annotations

import json
import sys

from . import state as statelib
from .errors import DokkuTeamsError, EX_FAIL, EX_MALFORMED, Invalid
from .names import TEAM, check_app, check_user, show

SEED_COMMANDS = ("docker:pull", "docker:tag", "docker:version", "version", "tags:deploy",
                 "git:from-image", "git:load-image")
USAGE = ("usage: dokku-ci-user add:user --name NAME --app APP [--app APP ...] [--from CIDR ...]"
         "  (public key on stdin)\n"
         "       dokku-ci-user remove:user --name NAME\n"
         "       dokku-ci-user list [--format json]\n")


def personal_team(user):
    """``ci-USER`` with the characters a team name cannot hold replaced by ``-``."""
    name = "ci-" + "".join(c if c in "abcdefghijklmnopqrstuvwxyz0123456789_-" else "-" for c in user)
    name = name[:63]
    if not TEAM.match(name):
        raise Invalid("cannot derive a team name from user %s" % show(user))
    return name


def _options(args):
    """``(name, apps, from_list or None, format)``."""
    names, apps, froms, fmt = [], [], [], None
    index = 0
    while index < len(args):
        flag = args[index]
        flag, eq, value = flag.partition("=")
        if flag not in ("--name", "--app", "--from", "--format"):
            raise Invalid("unknown option %s\n%s" % (show(flag), USAGE.rstrip()))
        if not eq:
            if index + 1 >= len(args):
                raise Invalid("option %s needs a value" % flag)
            value = args[index + 1]
            index += 1
        index += 1
        {"--name": names, "--app": apps, "--from": froms}.get(flag, []).append(value)
        if flag == "--format":
            fmt = value
    if len(names) > 1:
        raise Invalid("give --name once")
    return (names[0] if names else None), apps, (froms or None), fmt


def add_user(current, name, key_lines, apps, from_=None):
    """The bot with its keys, ``from_`` (``None``: left as it is) and its ``ci-NAME`` team,
    whose only member it is and which it does not own."""
    check_user(name)
    if not apps:
        raise Invalid("give at least one --app")
    for app in apps:
        check_app(app)
    team = personal_team(name)
    users = current["users"]
    if name in users:
        new = current
        known = set(_key_blobs(users[name]["keys"]))
        for key in key_lines:
            if _key_blobs([key])[0] not in known:
                new = statelib.add_key(new, name, key)
        if from_ is not None:
            new = statelib.set_user_from(new, name, from_)
    else:
        new = statelib.add_user(current, name, key_lines, from_)
    if team not in new["teams"]:
        new = statelib.create_team(new, team)
    # Earlier versions made the bot the owner of its team: that is taken back here.
    new = statelib.set_team(new, team, owners=[o for o in new["teams"][team]["owners"] if o != name])
    new = statelib.add_members(new, team, [name], "member")
    return statelib.add_grants(new, team, commands=list(SEED_COMMANDS), apps=list(apps))


def bots(state):
    """``[(user, team record)]`` for the users dokku-ci-user manages: those with a ci-NAME team."""
    out = []
    for user in sorted(state["users"]):
        try:
            team = state["teams"].get(personal_team(user))
        except Invalid:
            continue
        if team is not None and user in team["members"]:
            out.append((user, team))
    return out


def _key_blobs(lines):
    from .sshkeys import parse_key
    return [parse_key(line).blob_b64 for line in lines]


def remove_user(current, name):
    check_user(name)
    if name not in current["users"]:
        raise Invalid("user %s does not exist" % name)
    new = statelib.remove_user(current, name)
    team = personal_team(name)
    if team in new["teams"] and not new["teams"][team]["members"] and not new["teams"][team]["owners"]:
        new = statelib.destroy_team(new, team)
    return new


def main(argv=None, store=None, config=None, stdin=None, stdout=None, stderr=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        if not argv or argv[0] in ("help", "--help", "-h"):
            stdout.write(USAGE)
            return 0 if argv else EX_MALFORMED
        if store is None or config is None:
            from . import gateconfig
            from .store import Store
            config = config or gateconfig.load()
            store = store or Store(config.state_dir)
        verb, args = argv[0], argv[1:]
        name, apps, from_, fmt = _options(args)
        if verb == "list":
            current = store.load()
            rows = [{"name": user, "apps": list(team["apps"]), "from": list(current["users"][user]["from"])}
                    for user, team in bots(current)]
            if fmt == "json":
                stdout.write(json.dumps(rows) + "\n")
            else:
                stdout.write("=====> CI users\n" + "".join(
                    "%s %s%s\n" % (r["name"], " ".join(r["apps"]), "".join(" from=" + f for f in r["from"]))
                    for r in rows))
            return 0
        if name is None:
            raise Invalid("give --name NAME\n" + USAGE.rstrip())
        if verb == "add:user":
            keys = [line.strip() for line in stdin.read().splitlines() if line.strip()]
            if not keys:
                raise Invalid("no public key on stdin: cat key.pub | dokku-ci-user add:user --name N --app A")
            with store.transaction() as tx:
                tx.state = add_user(tx.state, name, keys, apps, from_)
                new = tx.state
            message = "-----> User %s may deploy %s%s" % (
                name, " ".join(apps), " from " + ",".join(new["users"][name]["from"]) if new["users"][name]["from"] else "")
        elif verb == "remove:user":
            with store.transaction() as tx:
                tx.state = remove_user(tx.state, name)
                new = tx.state
            message = "-----> User %s removed" % name
        else:
            raise Invalid("unknown command %s\n%s" % (show(verb), USAGE.rstrip()))
        if getattr(config, "authorized_keys", None):
            from . import hostsync
            hostsync.write_authorized_keys(config, new)
        stdout.write(message + "\n")
        return 0
    except DokkuTeamsError as error:
        stderr.write("!     %s\n" % error.message)
        return error.code
    except OSError as error:
        stderr.write("!     %s\n" % (error.strerror or error))
        return EX_FAIL
