# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit log: one JSON line per gate decision, written before anything runs.

Fields: ``time`` (ISO 8601 UTC, milliseconds), ``user``, ``key`` (fingerprint), ``client``
(the address from ``SSH_CONNECTION``, or null), ``command`` (the raw command, escaped: the
line is pure printable ASCII whatever the client sent), ``decision`` (allow, deny,
malformed, error), ``reason``, ``pseudo`` (the pseudo-command), ``apps``, ``services``,
``code`` (the exit code the gate answers with, or 0 when the target runs). ``services`` are
``{"type": T, "name": N}`` objects, as in the policy document.

``append`` is on the gate's start-up path: ``os`` and ``time`` only (``jsonlite`` writes the
line). ``read`` is for ``dokku-teams audit`` and may use ``json``.
"""

from __future__ import annotations

import os
import time

from . import jsonlite
from .errors import StateError

DEFAULT_PATH = "/var/log/dokku-teams/audit.log"
FIELDS = ("time", "user", "key", "client", "command", "decision", "reason", "pseudo", "apps",
          "services", "code")
DECISIONS = ("allow", "deny", "malformed", "error")
MAX_COMMAND = 4096
_ADDRESS_CHARS = frozenset("0123456789abcdefABCDEF.:")


def now():
    """The current time as ISO 8601 UTC with milliseconds: ``2025-01-31T12:00:00.123Z``."""
    stamp = time.time()
    seconds = int(stamp)
    millis = int((stamp - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % millis


def client_address(ssh_connection):
    """The client's address: the first field of ``SSH_CONNECTION`` when it looks like an IP
    address (checked by character set and length), else ``None``."""
    if ssh_connection is None:
        return None
    if isinstance(ssh_connection, bytes):
        try:
            ssh_connection = ssh_connection.decode("ascii")
        except UnicodeDecodeError:
            return None
    first = ssh_connection.split(" ", 1)[0]
    if not 2 <= len(first) <= 45 or any(c not in _ADDRESS_CHARS for c in first):
        return None
    if "." not in first and ":" not in first:
        return None
    return first


def escape_command(raw):
    """The raw command as text: bytes decoded with backslashreplace, capped. jsonlite escapes
    every control or non-ASCII character when the line is written."""
    if raw is None:
        return None
    if isinstance(raw, bytes):
        text = raw[:MAX_COMMAND].decode("utf-8", "backslashreplace")
        return text + ("..." if len(raw) > MAX_COMMAND else "")
    text = str(raw)
    return text[:MAX_COMMAND] + ("..." if len(text) > MAX_COMMAND else "")


def record(user, key, client, command, decision, reason, pseudo=None, apps=(), services=(), code=0):
    """A record with every field, in order (``command`` raw: bytes or str)."""
    return {
        "time": now(),
        "user": user,
        "key": key,
        "client": client,
        "command": escape_command(command),
        "decision": decision,
        "reason": reason,
        "pseudo": pseudo,
        "apps": list(apps),
        "services": [{"type": service[0], "name": service[1]} if type(service) in (tuple, list) else service
                     for service in services],
        "code": code,
    }


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return value


def append(path, entry):
    """Append ``entry`` (a dict) as one JSON line to the log at ``path``; ``StateError`` when
    the line cannot be written whole (the gate then refuses: no line, nothing runs)."""
    clean = {}
    for key, value in entry.items():
        if key == "command":
            value = escape_command(value)
        elif isinstance(value, bytes):
            value = _text(value)
        clean[key] = value
    try:
        line = (jsonlite.dumps(clean) + "\n").encode("ascii")
    except (TypeError, ValueError) as error:
        raise StateError("audit record cannot be written: %s" % error)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as error:
        raise StateError("audit log %s cannot be opened (%s)" % (path, error.strerror))
    try:
        info = os.fstat(fd)
        if (info.st_mode & 0o170000) != 0o100000:
            raise StateError("audit log %s is not a regular file" % path)
        if info.st_uid != os.geteuid():
            raise StateError("audit log %s is not owned by uid %d" % (path, os.geteuid()))
        if info.st_mode & 0o022:
            raise StateError("audit log %s is writable by group or others" % path)
        written = os.write(fd, line)
        if written != len(line):
            raise StateError("audit log %s: short write" % path)
    except OSError as error:
        raise StateError("audit log %s cannot be written (%s)" % (path, error.strerror))
    finally:
        os.close(fd)


def read(path, user=None, app=None, decision=None):
    """Yield the records of the log at ``path`` (oldest first) that match every filter given.

    ``app`` matches records whose ``apps`` contain it; a line that is not a JSON object is
    yielded as ``{"decision": "error", "reason": "unreadable audit line N"}`` so tampering or
    truncation shows instead of vanishing. ``StateError`` when the file cannot be opened.
    """
    import json

    try:
        handle = open(path, "rb")
    except OSError as error:
        raise StateError("audit log %s cannot be read (%s)" % (path, error.strerror))
    with handle:
        for number, raw in enumerate(handle, 1):
            raw = raw.rstrip(b"\n")
            if not raw:
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
                if not isinstance(entry, dict):
                    raise ValueError("not an object")
            except ValueError:
                entry = {"time": None, "user": None, "decision": "error",
                         "reason": "unreadable audit line %d" % number, "apps": [], "services": []}
                if user is None and app is None and decision in (None, "error"):
                    yield entry
                continue
            if user is not None and entry.get("user") != user:
                continue
            if app is not None and app not in (entry.get("apps") or ()):
                continue
            if decision is not None and entry.get("decision") != decision:
                continue
            yield entry
