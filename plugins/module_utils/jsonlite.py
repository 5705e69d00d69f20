# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON for the gate's start-up path without importing ``json``.

``import json`` pulls in ``re`` (and ``re`` pulls in ``enum``): together they cost more than
the interpreter's own start-up. The C scanner in ``_json`` parses JSON on its own when it is
handed a context object, and writing the few value types the gate logs is a short function.
Writers that are not on the hot path (the store, the CLI, the modules) use ``json``.
"""

from __future__ import annotations

try:
    from _json import make_scanner as _make_scanner
except ImportError:  # pragma: no cover - CPython always has _json
    _make_scanner = None


class _Context(object):
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo = None

    @staticmethod
    def parse_constant(name):
        raise ValueError("JSON constant %s is not accepted" % name)


_SPACE = " \t\n\r"


def loads(text):
    """Parse one JSON document; ``ValueError`` when it is not exactly one."""
    if _make_scanner is None:  # pragma: no cover
        import json
        return json.loads(text)
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    scan = _make_scanner(_Context())
    start = 0
    while start < len(text) and text[start] in _SPACE:
        start += 1
    try:
        value, end = scan(text, start)
    except StopIteration:
        raise ValueError("not a JSON document")
    while end < len(text) and text[end] in _SPACE:
        end += 1
    if end != len(text):
        raise ValueError("extra data after the JSON document")
    return value


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string(value):
    out = ['"']
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif " " <= char < "\x7f":
            out.append(char)
        else:
            code = ord(char)
            if code > 0xFFFF:
                code -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
            else:
                out.append("\\u%04x" % code)
    out.append('"')
    return "".join(out)


def dumps(value):
    """Compact ASCII JSON for str, int, float, bool, None, list, tuple and dict with str keys."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int or kind is float:
        return repr(value)
    if kind is list or kind is tuple:
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if kind is dict:
        return "{" + ",".join(_string(key) + ":" + dumps(item) for key, item in value.items()) + "}"
    raise TypeError("cannot write %s as JSON" % kind.__name__)
