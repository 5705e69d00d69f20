# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From a raw command to a decision: the path the gate and ``dokku-teams check`` share."""

from __future__ import annotations

from .cmdline import split_command
from .errors import EX_MALFORMED, Malformed
from .policy import decide
from .request import parse


class Refusal(object):
    """A malformed command: refused before any policy is consulted."""

    allowed = False
    decision = "malformed"
    detail = None
    code = EX_MALFORMED
    request = None
    argv = None
    team = None
    filter_apps = None
    filter_all = False

    def __init__(self, reason):
        self.reason = reason

    def as_dict(self):
        return {"decision": "malformed", "reason": self.reason, "command": None, "apps": [],
                "services": [], "argv": None, "team": None}


def evaluate(view, raw, programs=None, held=None):
    """Split, parse and decide ``raw`` (bytes or str) for the user whose view is given
    (``held``: see ``policy.decide``)."""
    try:
        if raw is None or (raw.strip() if isinstance(raw, str) else raw.strip(b" \t")) in ("", b""):
            raise Malformed("no shell access")
        request = parse(split_command(raw))
    except Malformed as error:
        return Refusal(error.message)
    return decide(view, request, programs, held)
