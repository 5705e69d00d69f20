# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Full-string checks for every name the collection accepts.

Each check looks at every character of the whole value against an ASCII set: there is no
way for a trailing newline or a look-alike letter to slip past an anchor. Nothing is
lower-cased, stripped or otherwise normalised before it is checked: a name that needs
normalising is refused. (No ``re`` here on purpose: the gate imports this module, and
importing ``re`` alone doubles an interpreter's start-up time.)
"""

from __future__ import annotations

from .errors import Invalid

_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGIT = frozenset("0123456789")
_ALNUM = _LOWER | _DIGIT
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class Pattern(object):
    """``first`` character from one set, then up to ``maxlen - 1`` from another."""

    __slots__ = ("first", "rest", "maxlen", "minlen")

    def __init__(self, first, rest, maxlen, minlen=1):
        self.first = frozenset(first)
        self.rest = frozenset(rest)
        self.maxlen = maxlen
        self.minlen = minlen

    def match(self, value):
        if not isinstance(value, str) or not self.minlen <= len(value) <= self.maxlen:
            return False
        if value[0] not in self.first:
            return False
        rest = self.rest
        for char in value[1:]:
            if char not in rest:
                return False
        return True


USER = Pattern(_ALNUM, _ALNUM | set("._@-"), 64)
TEAM = Pattern(_ALNUM, _ALNUM | set("_-"), 63)
APP = Pattern(_ALNUM, _ALNUM | set(".-"), 63)
TAG = Pattern(_ALNUM | _UPPER | set("_"), _ALNUM | _UPPER | set("_.-"), 128)
SERVICE_TYPE = Pattern(_ALNUM | set("-"), _ALNUM | set("-"), 32)
SERVICE_NAME = Pattern(_ALNUM, _ALNUM | set("_-"), 63)
# A command as typed by a client, and a command grant (the same plus the glob '*').
COMMAND = Pattern(_ALNUM, _ALNUM | set(":._-"), 96)
COMMAND_GRANT = Pattern(_ALNUM | set("*"), _ALNUM | set(":._-*"), 96)
# Docker image repository path components (lower case, separators . _ -) and registry hosts.
REPO_COMPONENT = Pattern(_ALNUM, _ALNUM | set("._-"), 128)
REGISTRY_HOST = Pattern(_ALNUM | _UPPER, _ALNUM | _UPPER | set(".-"), 253)
HEX = frozenset("0123456789abcdef")

ADMIN_TEAM = "dokku@admin"
APP_TEAM_PREFIX = "dokku@app--"
RESERVED_PREFIX = "dokku@"


def is_app_team(name):
    return isinstance(name, str) and name.startswith(APP_TEAM_PREFIX) and APP.match(name[len(APP_TEAM_PREFIX):])


def valid_team(name):
    """A team name: ordinary names, ``dokku@admin`` and ``dokku@app--APP``."""
    return name == ADMIN_TEAM or is_app_team(name) or TEAM.match(name)


def _check(pattern, kind, value, hint):
    if not pattern.match(value):
        raise Invalid("invalid %s name %s: %s" % (kind, show(value), hint))
    return value


def check_user(name):
    return _check(USER, "user", name, "use 1-64 of a-z 0-9 . _ @ -, starting with a letter or digit")


def check_team(name):
    if not valid_team(name):
        raise Invalid("invalid team name %s: use 1-63 of a-z 0-9 _ -, starting with a letter or digit"
                      " (the prefix dokku@ is reserved)" % show(name))
    return name


def check_new_team(name):
    """A team an admin may create: the ``dokku@`` prefix is reserved for special teams."""
    if isinstance(name, str) and name.startswith(RESERVED_PREFIX):
        raise Invalid("team name %s is reserved: the prefix dokku@ belongs to special teams" % show(name))
    return check_team(name)


def check_app(name):
    return _check(APP, "app", name, "use 1-63 of a-z 0-9 . -, starting with a letter or digit")


def check_app_grant(name):
    """An app grant: an app name, or ``*`` for every app."""
    return name if name == "*" else check_app(name)


def check_service_type(name):
    return _check(SERVICE_TYPE, "service type", name, "use 1-32 of a-z 0-9 -")


def check_service_name(name):
    return _check(SERVICE_NAME, "service", name, "use 1-63 of a-z 0-9 _ -, starting with a letter or digit")


def check_command_grant(name):
    return _check(COMMAND_GRANT, "command", name,
                  "use a Dokku command name such as ps:restart, or a glob such as apps:* (a-z 0-9 : . _ - *)")


def escape(text, also="\\"):
    """``text`` as printable ASCII: control characters and everything outside ASCII as ``\\xNN``,
    ``\\uNNNN`` or ``\\UNNNNNNNN``, and a backslash before each character in ``also``."""
    out = []
    for char in text:
        code = ord(char)
        if char in also:
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code < 0x100:
            out.append("\\x%02x" % code)
        elif code < 0x10000:
            out.append("\\u%04x" % code)
        else:
            out.append("\\U%08x" % code)
    return "".join(out)


def show(value, limit=80):
    """A value as it may appear in a message or log: quoted, escaped, never a raw control byte."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    elif not isinstance(value, str):
        value = repr(value)
    return "'%s'%s" % (escape(value[:limit], "\\'"), "..." if len(value) > limit else "")
