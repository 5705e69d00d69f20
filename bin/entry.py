# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start one of the collection's host programs: the gate, dokku-teams, dokku-ci-user or deploy-guard.

From a checkout, ``bin/dokku-teams-gate``, ``bin/dokku-teams`` and ``bin/dokku-ci-user`` run
this file with ``/usr/bin/python3 -IS`` and their own name as the first argument. On a host the
role installs it as ``/usr/local/lib/dokku-teams/gate``, ``dokku-teams`` and ``dokku-ci-user``
with ``#!/usr/bin/python3 -IS`` as the first line: the program is then the file's own name, and
the engine is the ``module_utils/`` directory beside it. The gate's start-up cost is this file
plus its imports, so nothing here imports more than ``os`` and ``sys``.
"""

import os
import sys

PROGRAMS = {"gate": "gate", "dokku-teams-gate": "gate", "dokku-teams": "cli", "dokku-ci-user": "compat",
            "deploy-guard": "guard", "dokku-teams-deploy-guard": "guard",
            "dokku-teams-auth": "auth"}


def _refuse(message, code):
    # Never a traceback: a broken installation answers one line and refuses everything.
    os.write(2, ("!     %s\n" % message).encode("ascii", "replace"))
    os._exit(code)  # pylint: disable=protected-access


def _start():
    here = os.path.dirname(os.path.realpath(__file__))
    name = os.path.basename(sys.argv[0])
    if name == "entry.py":
        if len(sys.argv) < 2:
            _refuse("usage: entry.py gate|dokku-teams|dokku-ci-user [ARGS...]", 64)
        name = sys.argv.pop(1)
        sys.argv[0] = name
    program = PROGRAMS.get(name)
    if program is None:
        _refuse("unknown program name %r" % name, 64)
    if os.path.isdir(os.path.join(here, "module_utils")):
        sys.path.insert(0, here)
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(here), "plugins"))
    try:
        if program == "gate":
            from module_utils.gate import main
        elif program == "compat":
            from module_utils.compat import main
        elif program == "guard":
            from module_utils.guard import main
        elif program == "auth":
            from module_utils.dokkuauth import main
        else:
            from module_utils.cli import main
    except BaseException:  # pylint: disable=broad-except
        _refuse("access control is unavailable; ask an admin to run dokku-teams doctor", 75)
    return main


if __name__ == "__main__":
    sys.exit(_start()())
