# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every image a Dockerfile builds on or copies from, as the builder would resolve it.

Read the way BuildKit's Dockerfile frontend reads it (``moby/buildkit``
``frontend/dockerfile/parser``): parser directives at the top (``# escape=``, ``# syntax=``),
line continuations with the escape character (trailing blanks allowed), comment lines dropped
inside continuations, case-insensitive instructions. Then, instruction by instruction:

- ``ARG`` (before the first ``FROM``: global, visible in ``FROM``; inside a stage: re-declared
  globals keep their default) and ``ENV`` give the values ``$X``/``${X}``/``${X:-w}``/``${X:+w}``
  expand to; a modifier this reader does not know is an error (fail closed);
- ``FROM [--platform=..] IMAGE [AS NAME]``: IMAGE is a stage named before, ``scratch``, or an image;
- ``COPY``/``ADD --from=X`` and ``RUN --mount=...,from=X``: X is a stage (name or index) or an image;
- ``ONBUILD INSTRUCTION``: read as that instruction too (it runs in whatever builds on this image);
- ``# syntax=IMAGE`` names the BuildKit frontend image that will read the rest;
- ``LABEL k=v k2="v 2"`` and the legacy ``LABEL key value`` (also under ``ONBUILD``): split as
  BuildKit's ``parseNameVal``/``parseWords`` split them, each key unquoted; ``label_refusal``
  holds every key to ``labelkeys`` (an image's labels reach Dokku and the shared proxies).

Heredocs (``RUN <<EOF``) are read both ways, as BuildKit skips them and as the classic builder
reads their lines as instructions, and the images of both readings are returned: whichever
builder the engine uses, nothing it could build on is missed.
"""

from __future__ import annotations

import unicodedata

from . import labelkeys
from .errors import UnreadableText
from .names import show

MAX_BYTES = 1024 * 1024
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_BLANK = " \t"


class DockerfileError(UnreadableText):
    """The Dockerfile cannot be read as BuildKit would read it."""


class ImageUse(object):
    """One image the build would use: ``line``, ``how`` (FROM, COPY --from, RUN --mount,
    syntax) and ``ref`` (after variable expansion)."""

    __slots__ = ("line", "how", "ref")

    def __init__(self, line, how, ref):
        self.line = line
        self.how = how
        self.ref = ref

    def __eq__(self, other):
        return isinstance(other, ImageUse) and (self.line, self.how, self.ref) == (other.line, other.how, other.ref)

    def __hash__(self):
        return hash((self.line, self.how, self.ref))

    def __repr__(self):
        return "ImageUse(%d, %r, %r)" % (self.line, self.how, self.ref)


def _directives(lines):
    """The parser directives at the top of the file (name lowercased -> (value, line))."""
    found = {}
    for number, line in enumerate(lines, 1):
        stripped = line.strip(_BLANK + "\r")
        if not stripped.startswith("#"):
            break
        body = stripped[1:].lstrip(_BLANK)
        name_end = 0
        while name_end < len(body) and body[name_end] in _NAME_CHARS:
            name_end += 1
        name = body[:name_end]
        rest = body[name_end:].lstrip(_BLANK)
        if not name or not name[0].isalpha() or not rest.startswith("="):
            break
        key = name.lower()
        if key in found:
            raise DockerfileError(number, "parser directive %s is given twice" % key)
        found[key] = (rest[1:].strip(_BLANK), number)
    return found


def _logical_lines(lines, escape, heredocs):
    """``(line number, text)`` of each instruction, continuations joined."""
    out = []
    index = 0
    while index < len(lines):
        start = index
        parts = []
        while index < len(lines):
            raw = lines[index].rstrip("\r")
            index += 1
            stripped = raw.lstrip(_BLANK)
            if stripped.startswith("#") or (parts and not stripped.strip(_BLANK)):
                continue  # comments vanish, also inside a continuation; so do blank continuation lines
            body = raw.rstrip(_BLANK)
            if body.endswith(escape):
                parts.append(body[:-1])
                continue
            parts.append(raw)
            break
        text = "".join(parts).strip(_BLANK)
        if not text:
            continue
        out.append((start + 1, text))
        if heredocs:
            index = _skip_heredocs(lines, index, text)
    return out


def _heredoc_words(text):
    words = []
    at = text.find("<<")
    while at >= 0:
        pos = at + 2
        strip_tabs = text.startswith("-", pos)
        if strip_tabs:
            pos += 1
        quote = text[pos] if pos < len(text) and text[pos] in "\"'" else ""
        pos += len(quote)
        end = pos
        while end < len(text) and text[end] in _NAME_CHARS:
            end += 1
        if end > pos and (not quote or text.startswith(quote, end)):
            words.append((text[pos:end], strip_tabs))
        at = text.find("<<", end)
    return words


def _skip_heredocs(lines, index, text):
    first = text.split(None, 1)[0].upper()
    if first not in ("RUN", "COPY", "ADD"):
        return index
    for word, strip_tabs in _heredoc_words(text):
        while index < len(lines):
            line = lines[index].rstrip("\r")
            index += 1
            if (line.lstrip("\t") if strip_tabs else line) == word:
                break
    return index


class _Expander(object):
    """``$X`` expansion with the variables in scope (unknown: empty, like the builder)."""

    def __init__(self, escape):
        self.escape = escape

    def expand(self, word, env, line):
        out = []
        pos = 0
        quote = ""
        while pos < len(word):
            c = word[pos]
            if c == self.escape and pos + 1 < len(word) and quote != "'":
                out.append(word[pos + 1])
                pos += 2
            elif c in "\"'" and (not quote or quote == c):
                quote = "" if quote else c
                pos += 1
            elif c == "$" and quote != "'":
                value, pos = self._variable(word, pos + 1, env, line)
                out.append(value)
            else:
                out.append(c)
                pos += 1
        if quote:
            raise DockerfileError(line, "unterminated quote")
        return "".join(out)

    def _variable(self, word, pos, env, line):
        if pos < len(word) and word[pos] == "{":
            end = word.find("}", pos)
            if end < 0:
                raise DockerfileError(line, "unterminated ${")
            inner = word[pos + 1:end]
            name_end = 0
            while name_end < len(inner) and inner[name_end] in _NAME_CHARS:
                name_end += 1
            name, modifier = inner[:name_end], inner[name_end:]
            if not name or name[0] not in _NAME_START:
                raise DockerfileError(line, "a variable reference this reader cannot expand")
            value = env.get(name)
            if modifier == "":
                return value or "", end + 1
            for op in (":-", ":+", "-", "+"):
                if modifier.startswith(op):
                    alternative = self.expand(modifier[len(op):], env, line)
                    unset = value is None or (op.startswith(":") and value == "")
                    if op.endswith("-"):
                        return (alternative if unset else value), end + 1
                    return ("" if unset else alternative), end + 1
            raise DockerfileError(line, "a variable modifier this reader cannot expand")
        end = pos
        while end < len(word) and word[end] in _NAME_CHARS:
            end += 1
        if end == pos:
            return "$", pos
        return env.get(word[pos:end]) or "", end


def _assignments(rest, expander, env, line, arg):
    """``ARG a=1 b`` / ``ENV a=1 b=2`` / ``ENV a 1`` -> list of (name, value or None)."""
    words = rest.split()
    if not arg and len(words) >= 2 and "=" not in words[0]:
        return [(words[0], expander.expand(rest.split(None, 1)[1], env, line))]
    out = []
    for word in words:
        name, eq, value = word.partition("=")
        out.append((name, expander.expand(value, env, line) if eq else None))
    return out


def _flags(words):
    """Leading ``--name=value`` / ``--name value`` flags -> list of (name, value)."""
    out = []
    index = 0
    while index < len(words) and words[index].startswith("--"):
        name, eq, value = words[index][2:].partition("=")
        index += 1
        if not eq and name in ("from", "mount", "platform") and index < len(words):
            value = words[index]
            index += 1
        out.append((name.lower(), value))
    return out


def _words(rest, escape):
    """``rest`` split as BuildKit's ``parseWords`` splits LABEL arguments: blanks split words
    except inside quotes, quotes and escapes stay in the word (they are removed later, when the
    word is expanded), an escape at the very end is dropped."""
    words = []
    word = []
    quote = ""
    blank_ok = False   # a word that held quotes counts even when empty ('' is a word)
    pos = 0
    while pos < len(rest):
        c = rest[pos]
        pos += 1
        if not quote and c in _BLANK:
            if word or blank_ok:
                words.append("".join(word))
            word, blank_ok = [], False
            continue
        if quote and c == quote:
            quote = ""
        elif not quote and c in "\"'":
            quote, blank_ok = c, True
        elif c == escape and quote != "'":
            if pos == len(rest):
                continue
            word.append(c)
            c = rest[pos]
            pos += 1
        word.append(c)
    if word or blank_ok:
        words.append("".join(word))
    return words


def _label_pairs(line, rest, escape):
    """``LABEL rest`` -> ``(line, raw key, raw value or None, None)`` per label, or one
    ``(line, None, None, problem)`` when BuildKit's reading of it is not certain."""
    if any(c.isspace() and c not in _BLANK for c in rest):
        # Go's unicode.IsSpace and Python's str.isspace disagree on some of these: refuse them all.
        return [(line, None, None, "a LABEL with a blank other than space or tab")]
    words = _words(rest, escape)
    if not words:
        return [(line, None, None, "a LABEL without a key")]
    if "=" not in words[0]:
        # The legacy form, told apart as BuildKit does: no '=' in the first word; the key is the
        # text up to the first blank (not a quote-aware word), the value everything after it.
        key, value = _split_blank(rest)
        if value is None:
            return [(line, None, None, "a LABEL key without a value")]
        return [(line, key, value, None)]
    out = []
    for word in words:
        if "=" not in word:
            return [(line, None, None, "a LABEL word without '=' after a key=value one")]
        key, unused, value = word.partition("=")
        out.append((line, key, value, None))
    return out


def _split_blank(text):
    for pos, c in enumerate(text):
        if c in _BLANK:
            return text[:pos], text[pos:].lstrip(_BLANK) or None
    return text, None


class _Reader(object):
    def __init__(self, escape):
        self.expander = _Expander(escape)
        self.global_args = {}
        self.env = None          # None before the first FROM
        self.stages = []
        self.uses = []
        self.labels = []         # _label_pairs' tuples, in file order

    def source(self, value, line, how):
        """A ``--from`` value: a stage (by name or index) or an image."""
        ref = self.expander.expand(value, self.env if self.env is not None else self.global_args, line)
        if ref.isdigit() or ref.lower() in self.stages:
            return
        self.uses.append(ImageUse(line, how, ref))

    def instruction(self, line, text):
        parts = text.split(None, 1)
        keyword = parts[0].upper()
        rest = parts[1].strip(_BLANK) if len(parts) > 1 else ""
        if keyword == "ONBUILD":
            self.instruction(line, rest)
        elif keyword == "ARG":
            scope = self.global_args if self.env is None else self.env
            for name, value in _assignments(rest, self.expander, scope, line, True):
                if value is None:
                    value = scope.get(name, self.global_args.get(name))
                scope[name] = value
        elif keyword == "ENV" and self.env is not None:
            for name, value in _assignments(rest, self.expander, self.env, line, False):
                self.env[name] = value or ""
        elif keyword == "FROM":
            self.from_(line, rest)
        elif keyword == "LABEL":
            self.labels.extend(_label_pairs(line, rest, self.expander.escape))
        elif keyword in ("COPY", "ADD"):
            for name, value in _flags(rest.split()):
                if name == "from":
                    self.source(value, line, "%s --from" % keyword)
        elif keyword == "RUN":
            for name, value in _flags(rest.split()):
                if name == "mount":
                    for field in value.split(","):
                        key, eq, item = field.partition("=")
                        if eq and key.strip().lower() == "from":
                            self.source(item.strip(), line, "RUN --mount from")

    def from_(self, line, rest):
        words = rest.split()
        while words and words[0].startswith("--"):
            words.pop(0)
        if not words:
            raise DockerfileError(line, "FROM without an image")
        ref = self.expander.expand(words[0], self.global_args, line)
        name = None
        if len(words) >= 3 and words[1].lower() == "as":
            name = self.expander.expand(words[2], self.global_args, line).lower()
        if ref.lower() not in self.stages and ref.lower() != "scratch":
            self.uses.append(ImageUse(line, "FROM", ref))
        self.stages.append(name or "")
        self.env = {}


def _check_spelling(text):
    """Refuse text BuildKit would read differently (moby/buildkit frontend/dockerfile/parser):
    it drops a byte-order mark, trims every Unicode space (``unicode.IsSpace``) and Go's ``\\s``
    (form feed too) around directives, and finds the ``syntax`` directive after a ``#!`` first
    line, as a ``//`` comment or in a JSON document (``DetectSyntax``). Such a file could carry
    an ``escape`` or ``syntax`` directive this reader does not see."""
    for number, line in enumerate(text.split("\n"), 1):
        for char in line:
            if " " <= char < "\x7f" or char in "\t\r":
                continue
            category = unicodedata.category(char)
            if category in ("Cc", "Cf", "Zl", "Zp") or (category == "Zs" and char != " "):
                raise DockerfileError(number, "a control, format or space character U+%04X" % ord(char))
    lines = text.split("\n")
    first = next((line.strip(_BLANK + "\r") for line in lines if line.strip(_BLANK + "\r")), "")
    if lines[0].startswith("#!") or first.startswith(("//", "{")):
        raise DockerfileError(1, "a first line BuildKit could read a syntax directive from (#!, //, JSON)")


def _readers(text):
    """``(uses, readers)``: the ``# syntax=`` image use, and the file read with heredocs skipped
    (BuildKit) and with their lines read as instructions (the classic builder)."""
    if not isinstance(text, str):
        raise DockerfileError(1, "not text")
    if len(text) > MAX_BYTES:
        raise DockerfileError(1, "Dockerfile larger than %d bytes" % MAX_BYTES)
    _check_spelling(text)
    lines = text.split("\n")
    directives = _directives(lines)
    escape = "\\"
    if "escape" in directives:
        escape, number = directives["escape"]
        if escape not in ("\\", "`"):
            raise DockerfileError(number, "escape directive must be \\ or `")
    uses = []
    if "syntax" in directives:
        value, number = directives["syntax"]
        uses.append(ImageUse(number, "syntax", value))
    readers = []
    for heredocs in (True, False):
        reader = _Reader(escape)
        for number, text_line in _logical_lines(lines, escape, heredocs):
            reader.instruction(number, text_line)
        readers.append(reader)
    return uses, readers


def image_uses(text):
    """Every image the Dockerfile ``text`` would use (``ImageUse`` list, in file order, no
    duplicates); ``DockerfileError`` when it cannot be read."""
    uses, readers = _readers(text)
    for reader in readers:
        for use in reader.uses:
            if use not in uses:
                uses.append(use)
    uses.sort(key=lambda use: use.line)
    return uses


def _label_problem(key, value, escape, source_image):
    """Why the label ``key=value`` (raw words) may not be set, or None."""
    if "$" in key or escape in key:
        # A build argument (docker-options, BuildKit's own TARGET*/BUILD* args) could make a
        # variable anything, and an escaped character is unquoted differently inside quotes.
        return "a LABEL key built from a variable or an escape character"
    try:
        plain = _Expander(escape).expand(key, {}, 0)
    except DockerfileError:
        return "a LABEL key with an unterminated quote"
    if labelkeys.allowed(plain):
        return None
    if source_image and "$" not in value:
        try:
            if labelkeys.dokku_source_label(plain, _Expander(escape).expand(value, {}, 0), source_image):
                return None
        except DockerfileError:
            pass
    return "LABEL %s is not a descriptive label the guard allows (Dokku and the proxies act on labels)" % (
        show(plain))


def label_refusal(text, source_image=None):
    """``(line, message)`` for the first LABEL (``ONBUILD LABEL`` too) whose key is not one of
    ``labelkeys.INERT``, or that cannot be read for certain; None when every label is inert.
    ``source_image``: the app's ``git`` ``source-image`` property, whose ``alternate-tags``
    label ``git-from-image`` writes into the Dockerfile itself. A file ``image_uses`` cannot
    read gives ``(line, "cannot be read as a Dockerfile (...)")``."""
    try:
        readers = _readers(text)[1]
    except DockerfileError as error:
        return error.line, "cannot be read as a Dockerfile (%s)" % error.message
    escape = readers[0].expander.escape
    found = []
    for reader in readers:
        for line, key, value, problem in reader.labels:
            why = problem or _label_problem(key, value, escape, source_image)
            if why is not None:
                found.append((line, why))
    return min(found) if found else None
