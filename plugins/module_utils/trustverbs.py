# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``dokku-teams app:trust|untrust|trusted``: lift the deploy guard for an app, or put it back.

Root only (the CLI), and every change is audited like a gate decision: one line with the
acting person (``SUDO_USER`` when an admin used sudo, else ``root``), ``pseudo`` ``app:trust`` or
``app:untrust`` and the app, written before the guard file changes.
"""

from __future__ import annotations

import json

from . import audit, guardfile
from .errors import Malformed
from .names import check_app


def execute(state_dir, audit_log, verb, args, actor, environ):
    """``(code, stdout text)``; ``DokkuTeamsError`` on bad input or state."""
    if verb == "trusted":
        as_json = args == ["--format", "json"] or args == ["--format=json"]
        if args and not as_json:
            raise Malformed("usage: dokku-teams app:trusted [--format json]")
        doc = guardfile.read(guardfile.path(state_dir), None)
        if as_json:
            return 0, json.dumps(doc["trusted"]) + "\n"
        return 0, "=====> Apps the deploy guard trusts\n" + "".join("%s\n" % a for a in doc["trusted"])
    if verb not in ("trust", "untrust") or len(args) != 1:
        raise Malformed("usage: dokku-teams app:trust APP | app:untrust APP | app:trusted [--format json]")
    app = args[0]
    check_app(app)
    entry = audit.record(actor, None, audit.client_address(environ.get("SSH_CONNECTION")),
                         "dokku-teams app:%s %s" % (verb, app), "allow",
                         "admin at the console", "app:" + verb, apps=[app])
    audit.append(audit_log, entry)
    changed = guardfile.set_trust(state_dir, app, verb == "trust")
    if verb == "trust":
        text = "the deploy guard no longer checks %s's deploys" % app
    else:
        text = "the deploy guard checks %s's deploys again" % app
    return 0, "-----> %s%s\n" % (text, "" if changed else " (no change)")
