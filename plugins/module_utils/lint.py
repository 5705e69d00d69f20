# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Warnings for declarations that are valid but almost certainly not what was meant.

A misspelt command (``ps:restrat``) or app (``shop-wbe``) is a valid grant that never matches,
a glob never grants the host escapes it seems to cover, and an app renamed over SSH
(``apps:rename``, which the grants follow) would be put back to its old name by the next run.
None of these is an error: apps may be created later, and Dokku plugins add commands. Used by
the modules only (never on the gate's path).
"""

from __future__ import annotations

import difflib
import functools
import os
import re

from . import commands
from .names import is_app_team


@functools.lru_cache(maxsize=1)
def known_commands():
    names = set(commands.core_commands()) | set(commands.PSEUDO)
    names.update("%s:%s" % (kind, verb) for kind in commands.DATASTORE_TYPES for verb in commands.datastore_verbs())
    return frozenset(names)


def _glob(pattern):
    return re.compile("".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern)) + r"\Z")


# Hundreds of teams grant the same few commands: each grant is judged once per run, not once
# per team (matching a glob against every known command is what costs).
@functools.lru_cache(maxsize=4096)
def _command_problem(command):
    """What is wrong with one granted command, or ``None``."""
    known = known_commands()
    if "*" not in command:
        if command not in known and commands.lookup(command) is None:
            close = difflib.get_close_matches(command, sorted(known), n=1)
            return ("the gate knows no command %s%s; the grant never matches"
                    % (command, " (did you mean %s?)" % close[0] if close else ""))
        return None
    match = _glob(command).match
    matching = [name for name in known if match(name)]
    if not matching:
        return "the glob %s matches no command the gate knows; the grant never matches" % command
    skipped = sorted(name for name in matching if commands.is_host_escape(name))
    if skipped and command != "*":
        return ("the glob %s does not grant the host-escape commands %s (they are granted only"
                " by their literal name)" % (command, ", ".join(skipped)))
    return None


def command_warnings(team, granted):
    problems = (_command_problem(command) for command in granted if not command.startswith("teams:"))
    return ["team %s: %s" % (team, problem) for problem in problems if problem]


def host_apps(dokku_root):
    """The apps Dokku has (directories of DOKKU_ROOT, as dokku/dokku plugins/common/common.go
    UnfilteredDokkuApps lists them), or ``None`` when there is no Dokku root to read."""
    try:
        entries = os.listdir(dokku_root)
    except OSError:
        return None
    return set(name for name in entries if not name.startswith(".") and not name[:1].isupper()
               and os.path.isdir(os.path.join(dokku_root, name)))


def app_warnings(team, declared, on_host, existing):
    """Warnings for the apps ``declared`` for ``team`` that ``existing`` (the host's apps) lacks;
    ``on_host`` is the team's app list in the state, which follows apps:rename."""
    if existing is None or is_app_team(team):
        return []
    missing = sorted(app for app in declared if app != "*" and app not in existing)
    if not missing:
        return []
    renamed = sorted(app for app in on_host if app != "*" and app not in declared and app in existing)
    if renamed:
        return ["team %s: no app %s on this host, but the team's grant on the host names %s, which exists"
                " (renamed with apps:rename?). Write the new name in inventory, or this run takes the grant"
                " back to the old one" % (team, ", ".join(missing), ", ".join(renamed))]
    return ["team %s: no app %s on this host (a typo, or an app not created yet: the grant takes effect"
            " when it is)" % (team, ", ".join(missing))]


def team_warnings(declarations, current, dokku_root):
    """Every warning for the team declarations (``declare.team_declarations``) against the state."""
    existing = None
    out = []
    for item in declarations:
        if item["state"] == "absent":
            continue
        if item["commands"]:
            out.extend(command_warnings(item["name"], item["commands"]))
        if item["apps"]:
            if existing is None:
                existing = host_apps(dokku_root) or set()
            if existing:
                record = current["teams"].get(item["name"]) or {"apps": []}
                out.extend(app_warnings(item["name"], item["apps"], record["apps"], existing))
    return out
