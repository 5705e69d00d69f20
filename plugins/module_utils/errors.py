# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors and the exit codes, shared by the gate, the CLI and the modules.

Each error carries the exit code the gate and the CLI answer with, so a caller never
has to map error kinds to codes itself. Every exit code the programs answer with is named
here (``bin/entry.py`` alone spells 64 and 75 out: it runs before the engine is found).
"""

from __future__ import annotations

EX_OK = 0
EX_FAIL = 1         # Dokku's own failure (dokku_log_fail): Pro's verbs' answers, a refused deploy
EX_MALFORMED = 64   # the request could not be parsed (sysexits EX_USAGE)
EX_INVALID = 65     # a name, key or document failed validation (EX_DATAERR)
EX_UNAVAILABLE = 69  # allowed, but its program is not installed (EX_UNAVAILABLE)
EX_STATE = 75       # the state cannot be trusted right now (EX_TEMPFAIL): deny everything
EX_DENIED = 77      # the policy refuses (EX_NOPERM)
EX_NOT_RUN = 127    # a child of the gate could not exec its target (the shell's "not found")


class UnreadableText(Exception):
    """A file the deploy guard reads (a Dockerfile, a template) that it cannot follow: refused,
    never guessed at. ``line`` is where the problem starts."""

    def __init__(self, line, message):
        Exception.__init__(self, message)
        self.line = line
        self.message = message


class DokkuTeamsError(Exception):
    """Base class: a one-line message that is safe to show to the caller."""

    code = EX_FAIL

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


class Malformed(DokkuTeamsError):
    """The command line is not one the gate accepts."""

    code = EX_MALFORMED


class Invalid(DokkuTeamsError):
    """A name, key, or policy document is not valid."""

    code = EX_INVALID


class Denied(DokkuTeamsError):
    """The policy refuses the request."""

    code = EX_DENIED


class StateError(DokkuTeamsError):
    """The state is missing, untrusted, invalid, or locked for too long."""

    code = EX_STATE
