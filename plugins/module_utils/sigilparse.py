# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which functions a sigil template calls, found the way Go's ``text/template`` lexer finds them.

sigil (``gliderlabs/sigil``, ``sigil.go`` ``Execute``) first joins ``}}\\`` + newline + ``{{``
into ``}}{{``, then hands the text to ``text/template`` with its delimiters (``{{ }}``, or the
pair in ``SIGIL_DELIMS``). Go's lexer (``text/template/parse/lex.go``) decides what is an
action, a string, a comment or an identifier; every identifier that is not a keyword is a
function call (an identifier used as an argument is a call with no arguments). This module
reproduces exactly those boundaries and returns every identifier with its line. Where it
cannot follow the text (an unterminated action, string or comment, a character Go's lexer
rejects) it raises ``TemplateError``: Go would refuse to parse it too, and the guard refuses
what it cannot read rather than guess.
"""

from __future__ import annotations

import bisect

from .errors import UnreadableText

# text/template keywords (lex.go ``key``) plus the constants that lex as their own items.
KEYWORDS = frozenset(("block", "break", "continue", "define", "else", "end", "if", "range", "nil",
                      "template", "with", "true", "false"))
_SPACE = " \t\r\n"
_TERMINATORS = frozenset(" \t\r\n.,|:)(")
MAX_BYTES = 1024 * 1024


class TemplateError(UnreadableText):
    """The text cannot be read as a template."""


def _alnum(c):
    return c == "_" or c.isalpha() or c.isdigit()


def delims_from(value):
    """The (left, right) pair sigil takes from a ``SIGIL_DELIMS`` value (``sigil.go`` ``init``:
    split on ``,``; Go's ``Delims`` keeps the default for an empty side). ``None`` when sigil
    would crash on it (fewer than two parts)."""
    if value is None or value == "":
        return ("{{", "}}")
    parts = value.split(",")
    if len(parts) < 2:
        return None
    return (parts[0] or "{{", parts[1] or "}}")


def _join_continuations(text, right, left):
    """sigil's own pre-step; returns the new text and, per removed newline, its new offset."""
    needle = "\\" + right + "\n" + left
    if needle not in text:
        return text, []
    out, removed, start = [], [], 0
    size = 0
    while True:
        found = text.find(needle, start)
        if found < 0:
            out.append(text[start:])
            break
        piece = text[start:found] + right + left
        out.append(piece)
        size += len(piece)
        removed.append(size - len(left))
        start = found + len(needle)
    return "".join(out), removed


class _Lexer(object):
    def __init__(self, text, left, right, removed):
        self.text = text
        self.left = left
        self.right = right
        self.removed = removed
        self.pos = 0
        self.calls = []
        self._line_pos = 0
        self._line_count = 0

    def line(self, pos):
        # Positions only grow while lexing: count newlines from the last one asked for.
        if pos < self._line_pos:
            self._line_pos, self._line_count = 0, 0
        self._line_count += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line_count + 1 + bisect.bisect_right(self.removed, pos)

    def fail(self, pos, message):
        raise TemplateError(self.line(pos), message)

    def run(self):
        text, left = self.text, self.left
        while True:
            start = text.find(left, self.pos)
            if start < 0:
                return self.calls
            self.pos = start + len(left)
            if text.startswith("-", self.pos) and self.pos + 1 < len(text) and text[self.pos + 1] in _SPACE:
                self.pos += 2  # lex.go lexLeftDelim: the marker is "-" and one space
            self.action(start)

    def at_right(self):
        """(matched, length) for ``}}`` or a trim marker `` -}}`` at the current position."""
        text, pos, right = self.text, self.pos, self.right
        if pos < len(text) and text[pos] in _SPACE and text.startswith("-" + right, pos + 1):
            return True, 2 + len(right)
        if text.startswith(right, pos):
            return True, len(right)
        return False, 0

    def action(self, start):
        # A comment must follow the delimiter (and its trim marker) at once: lex.go lexLeftDelim.
        if self.text.startswith("/*", self.pos):
            self.comment(start)
            return
        depth = 0
        while True:
            matched, size = self.at_right()
            if matched:
                if depth:
                    self.fail(start, "unclosed left paren")
                self.pos += size
                return
            if self.pos >= len(self.text):
                self.fail(start, "unclosed action")
            depth = self.item(depth)

    def comment(self, start):
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            self.fail(start, "unclosed comment")
        self.pos = end + 2
        matched, size = self.at_right()
        if not matched:
            self.fail(start, "comment ends before closing delimiter")
        self.pos += size

    def item(self, depth):
        """Lex the one item of an action that starts at ``pos`` (lex.go lexInsideAction);
        returns the depth of parentheses after it."""
        text = self.text
        c = text[self.pos]
        if c in _SPACE:
            self.pos += 1
            while self.pos < len(text) and text[self.pos] in _SPACE and \
                    not text.startswith("-" + self.right, self.pos + 1):
                self.pos += 1
        elif c == "(":
            depth += 1
            self.pos += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                self.fail(self.pos, "unexpected right paren")
            self.pos += 1
        elif c == '"' or c == "'":
            self.quoted(c)
        elif c == "`":
            end = text.find("`", self.pos + 1)
            if end < 0:
                self.fail(self.pos, "unterminated raw quoted string")
            self.pos = end + 1
        elif c == "$":
            self.pos += 1
            self.word()
        elif c == ".":
            if self.pos + 1 < len(text) and text[self.pos + 1].isdigit():
                self.number()
            else:
                self.pos += 1
                self.word()
        elif c in "+-" or "0" <= c <= "9":
            self.number()
        elif _alnum(c):
            begin = self.pos
            name = self.word()
            if name not in KEYWORDS:
                self.calls.append((name, self.line(begin)))
        elif c == ":":
            if not text.startswith(":=", self.pos):
                self.fail(self.pos, "expected :=")
            self.pos += 2
        elif c in "=|" or (c < "\x7f" and c.isprintable()):
            self.pos += 1  # '=', '|', or a character item such as ',' (range $i, $v)
        else:
            self.fail(self.pos, "unrecognized character in action")
        return depth

    def word(self):
        """A run of letters, digits and ``_``; Go then requires a terminator after it."""
        text, begin = self.text, self.pos
        while self.pos < len(text) and _alnum(text[self.pos]):
            self.pos += 1
        if self.pos < len(text) and text[self.pos] not in _TERMINATORS and \
                not text.startswith(self.right, self.pos):
            self.fail(self.pos, "bad character after a name")
        return text[begin:self.pos]

    def number(self):
        # Go's scanNumber is stricter; anything it rejects fails parsing, so nothing runs.
        text = self.text
        self.pos += 1
        while self.pos < len(text):
            c = text[self.pos]
            if _alnum(c) or c == ".":
                self.pos += 1
            elif c in "+-" and text[self.pos - 1] in "eEpP":
                self.pos += 1
            else:
                break

    def quoted(self, quote):
        text, pos = self.text, self.pos + 1
        while True:
            if pos >= len(text) or text[pos] == "\n":
                self.fail(self.pos, "unterminated quoted string")
            c = text[pos]
            if c == "\\":
                if pos + 1 >= len(text) or text[pos + 1] == "\n":
                    self.fail(self.pos, "unterminated quoted string")
                pos += 2
                continue
            pos += 1
            if c == quote:
                self.pos = pos
                return


def functions_called(text, delims=("{{", "}}")):
    """Every function the template calls: a list of ``(name, line)`` in order of appearance.
    ``TemplateError`` when the text cannot be read (Go's parser would refuse it as well)."""
    if not isinstance(text, str):
        raise TemplateError(1, "not text")
    if len(text) > MAX_BYTES:
        raise TemplateError(1, "template larger than %d bytes" % MAX_BYTES)
    left, right = delims
    joined, removed = _join_continuations(text, right, left)
    return _Lexer(joined, left, right, removed).run()
