# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From a raw command to a decision: the path the gate, ``dokku-teams check`` and
``dokku_team_info`` share."""

from __future__ import annotations

from .cmdline import split_command
from .errors import EX_DENIED, EX_MALFORMED, EX_STATE, Malformed, StateError
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
        return _answer("malformed", self.reason)


def _answer(decision, reason):
    """A decision's dict for a command that was never parsed (nothing to name but why)."""
    return {"decision": decision, "reason": reason, "command": None, "apps": [], "services": [], "argv": None,
            "team": None}


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


def check(store, user, raw, config=None):
    """``(decision dict, exit code)``: what the gate would answer ``user`` sending ``raw``, as
    ``dokku-teams check --format json`` prints it and ``dokku_team_info`` returns it; runs
    nothing. Like the gate, a state the writers did not seal refuses everything (``error``,
    ``EX_STATE``), and an unknown user is denied. ``config`` (a ``GateConfig``, or ``None``: the
    default programs, the host's apps unseen) names the programs and Dokku's app directory; it
    may be a function that reads it, so that a config that cannot be used is answered like a
    state that cannot (``error``)."""
    from .newapps import held_by_others
    from .policy import compile_view
    from .state import fingerprints
    from .store import check_sealed
    try:
        check_sealed(store.state_dir)
        current = store.load()
        if user not in current["users"]:
            return _answer("deny", "unknown user %s" % user), EX_DENIED
        if callable(config):
            config = config()
        view = compile_view(current, user, fingerprints(current, user))
        programs = config.programs() if config is not None else None
        held = held_by_others(current, user, config.home if config is not None else None)
        decision = evaluate(view, raw, programs, held)
    except StateError as error:
        return _answer("error", error.message), EX_STATE
    return decision.as_dict(), decision.code
