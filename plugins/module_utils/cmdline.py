# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split a raw ``SSH_ORIGINAL_COMMAND`` into words, the way a POSIX shell would quote them.

No shell ever sees the command. Everything a shell would *expand* is refused instead of
being taken literally, so a command means the same thing here as it would to a person
reading it: outside quotes ``; & | $ ` < > ( ) { } * ? [ ] ~ # \\`` are refused; inside
double quotes ``$``, backquote and backslash are refused; single quotes take everything
literally. Checks run on the raw bytes first: length, then the character set.
"""

from __future__ import annotations

from .errors import Malformed

MAX_BYTES = 4096
MAX_WORDS = 64

# Printable ASCII plus space and tab: no newline, CR, other control bytes, DEL, or non-ASCII.
_ALLOWED = frozenset(chr(c) for c in range(0x20, 0x7F)) | frozenset("\t")
_META = frozenset(";&|$`<>(){}*?[]~#\\")
_META_IN_DOUBLE = frozenset("$`\\")
_BLANK = frozenset(" \t")


def split_command(raw):
    """Return the list of words in ``raw`` (bytes or str) or raise ``Malformed``.

    The messages never repeat the input: it may hold anything.
    """
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise Malformed("command longer than %d bytes" % MAX_BYTES)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise Malformed("command contains a byte that is not printable ASCII")
    elif isinstance(raw, str):
        text = raw
        if len(text) > MAX_BYTES:
            raise Malformed("command longer than %d bytes" % MAX_BYTES)
    else:
        raise Malformed("no command")
    for position, char in enumerate(text):
        if char not in _ALLOWED:
            raise Malformed("command contains a control or non-ASCII character at position %d" % position)

    words = []
    current = []
    in_word = False
    quote = None
    for char in text:
        if quote == "'":
            if char == "'":
                quote = None
            else:
                current.append(char)
        elif quote == '"':
            if char == '"':
                quote = None
            elif char in _META_IN_DOUBLE:
                raise Malformed("%s is not accepted inside double quotes" % _name(char))
            else:
                current.append(char)
        elif char in _BLANK:
            if in_word:
                words.append("".join(current))
                current = []
                in_word = False
        elif char == "'" or char == '"':
            quote = char
            in_word = True
        elif char in _META:
            raise Malformed("%s is not accepted outside quotes" % _name(char))
        else:
            current.append(char)
            in_word = True
    if quote is not None:
        raise Malformed("unterminated %s quote" % ("single" if quote == "'" else "double"))
    if in_word:
        words.append("".join(current))
    if len(words) > MAX_WORDS:
        raise Malformed("more than %d words" % MAX_WORDS)
    return words


def _name(char):
    return "the character %r" % char if char != "\\" else "a backslash"


def quote_word(word):
    """Quote one word so that ``split_command`` reads it back unchanged (for logs and checks)."""
    if word and all(c not in _META and c not in _BLANK and c not in "'\"" for c in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"
