# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit log: one JSON line per gate decision, written before anything runs.

Fields: ``time`` (ISO 8601 UTC, milliseconds), ``user``, ``key`` (fingerprint), ``client``
(the address from ``SSH_CONNECTION``, or null), ``command`` (the raw command, escaped: the
line is pure printable ASCII whatever the client sent), ``decision`` (allow, deny,
malformed, error), ``reason``, ``pseudo`` (the pseudo-command), ``apps``, ``services``,
``code`` (the exit code the gate answers with, or 0 when the target runs), ``team`` (the team
whose grant allowed it, or the team a ``teams:*`` verb names; null otherwise). ``services`` are
``{"type": T, "name": N}`` objects, as in the policy document. ``teams:*`` verbs run inside the
gate, so their line is written once they have run, with their real exit code and answer.

The log is rotated by logrotate (the role's ``/etc/logrotate.d/dokku-teams``: rename, then a new
file; the gate opens the log for every line, so no ``copytruncate``); ``read`` goes through the
rotated files (``audit.log.1``, ``audit.log.2.gz``, ...) oldest first.

``append`` is on the gate's start-up path: ``os`` and ``time`` only (``jsonlite`` writes the
line). ``read`` is for ``dokku-teams audit`` and may use ``json``.
"""

from __future__ import annotations

import os
import time

from . import jsonlite
from .errors import StateError
from .names import escape

FIELDS = ("time", "user", "key", "client", "command", "decision", "reason", "pseudo", "apps",
          "services", "code", "team")
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


def record(user, key, client, command, decision, reason, pseudo=None, apps=(), services=(), code=0, team=None):
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
        "team": team,
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
    fd = _open_checked(path)
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise StateError("audit log %s: short write" % path)
    except OSError as error:
        raise StateError("audit log %s cannot be written (%s)" % (path, error.strerror))
    finally:
        os.close(fd)


def check_appendable(path):
    """``StateError`` unless the log at ``path`` can be opened for an append (for a line that
    is written after the action: the action is refused when the line could not be)."""
    os.close(_open_checked(path))


def _open_checked(path):
    # The file alone is checked: the log may be put in a system directory that is
    # group-writable by design (/var/log is root:syslog 0775 on Ubuntu); the checks on the
    # file itself keep out a link or a file someone else made.
    from .fsutil import open_trusted
    return open_trusted(path, "audit log %s" % path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)


def escape_text(value):
    """``value`` as one line of printable ASCII for a terminal: control characters (newlines,
    ESC sequences), backslashes and everything outside ASCII come out as backslash escapes.
    The log is JSON (escaped), but a JSON reader gives the raw characters back."""
    if value is None:
        return "-"
    return escape(value if isinstance(value, str) else str(value))


def human_line(entry):
    """One line of ``dokku-teams audit``: every field escaped for the terminal."""
    return "%s %-9s %-12s %s  (%s)%s" % (
        escape_text(entry.get("time")), escape_text(entry.get("decision")), escape_text(entry.get("user")),
        escape_text(entry.get("command")), escape_text(entry.get("reason")),
        " [%s]" % escape_text(entry.get("code")) if entry.get("code") not in (0, None) else "")


def parse_since(text, now_seconds=None):
    """``--since``: an ISO 8601 UTC date or time (``2026-12-02``, ``2026-12-02T15:00``,
    ``2026-12-02 15:00:05``, a trailing ``Z`` allowed) or an age (``90s``, ``30m``, ``12h``, ``7d``);
    returns the time as the log writes it, for a string comparison. ``ValueError`` when neither."""
    import re
    text = text.strip()
    match = re.match(r"\A(\d{1,6})([smhd])\Z", text)
    if match:
        seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        stamp = (time.time() if now_seconds is None else now_seconds) - seconds
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + ".000Z"
    match = re.match(r"\A(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?)?Z?\Z", text)
    if not match:
        raise ValueError("not a time")
    year, month, day, hour, minute, second, millis = match.groups()
    time.strptime("%s-%s-%s %s:%s:%s" % (year, month, day, hour or "00", minute or "00", second or "00"),
                  "%Y-%m-%d %H:%M:%S")
    return "%s-%s-%sT%s:%s:%s.%sZ" % (year, month, day, hour or "00", minute or "00", second or "00",
                                      (millis or "").ljust(3, "0"))


def log_files(path):
    """The log and its rotated copies, oldest first: ``path.N`` / ``path.N.gz`` (larger N is older),
    then ``path`` itself."""
    directory, base = os.path.split(path)
    rotated = []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        names = []
    for name in names:
        if not name.startswith(base + "."):
            continue
        suffix = name[len(base) + 1:]
        number = suffix[:-3] if suffix.endswith(".gz") else suffix
        if number.isdigit():
            rotated.append((int(number), os.path.join(directory, name)))
    return [name for unused_number, name in sorted(rotated, reverse=True)] + [path]


def _open_log(path):
    if path.endswith(".gz"):
        import gzip
        return gzip.open(path, "rb")
    return open(path, "rb")


def read(path, user=None, app=None, decision=None, team=None, since=None, rotated=True):
    """Yield the records of the log at ``path`` (oldest first, its rotated copies before it when
    ``rotated``) that match every filter given.

    ``app`` matches records whose ``apps`` contain it, ``team`` records of that team (the granting
    team, or the team a ``teams:*`` verb names), ``since`` records at or after that time (as
    ``parse_since`` returns it). A line that is not a JSON object is yielded as
    ``{"decision": "error", "reason": "unreadable audit line N of FILE"}`` so tampering or
    truncation shows instead of vanishing. ``StateError`` when the log itself cannot be opened
    (a rotated copy that vanished meanwhile is skipped).
    """
    import json

    paths = log_files(path) if rotated else [path]
    for file_path in paths:
        try:
            handle = _open_log(file_path)
        except OSError as error:
            if file_path != path:
                continue
            raise StateError("audit log %s cannot be read (%s)" % (path, error.strerror))
        with handle:
            try:
                for entry in _records(handle, file_path, json):
                    if _matches(entry, user, app, decision, team, since):
                        yield entry
            except (OSError, EOFError) as error:
                entry = {"time": None, "user": None, "decision": "error",
                         "reason": "audit log %s is damaged (%s)" % (file_path, error), "apps": [], "services": []}
                if _matches(entry, user, app, decision, team, None):
                    yield entry


def _records(handle, file_path, json):
    for number, raw in enumerate(handle, 1):
        raw = raw.rstrip(b"\n")
        if not raw:
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except ValueError:
            yield {"time": None, "user": None, "decision": "error",
                   "reason": "unreadable audit line %d of %s" % (number, file_path), "apps": [], "services": []}
            continue
        yield entry


def _matches(entry, user, app, decision, team, since):
    """Whether ``entry`` passes the filters. An unreadable line (no time, no user) passes only
    filters that do not ask for a user, app or team: it shows instead of vanishing."""
    if user is not None and entry.get("user") != user:
        return False
    if app is not None and app not in (entry.get("apps") or ()):
        return False
    if decision is not None and entry.get("decision") != decision:
        return False
    if team is not None and entry.get("team") != team:
        return False
    if since is not None:
        stamp = entry.get("time")
        if isinstance(stamp, str) and stamp < since:
            return False
    return True
