# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Case files (``cases/*.txt``): tables of commands, exactly as a user types them, kept as data.

A case is one line of columns, two or more blanks apart (no command in these tables holds two
blanks in a row, so the split is exact); ``  # `` starts the case's citation; a line that starts
with ``#`` is a comment; ``-`` is an empty column. An outcome is ``ok``, ``denied`` or
``malformed``. A line that does not fit stops the collection with its file and line number:
a case is never dropped in silence."""
from __future__ import annotations

import os
import re

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
OUTCOMES = {"ok": 0, "denied": 77, "malformed": 64}
CITE = "  # "
_BLANKS = re.compile(" {2,}")


class CaseFileError(ValueError):
    """A case line that does not fit its file's columns."""


def is_case(line):
    return bool(line.strip()) and not line.lstrip().startswith("#")


def parse(line, columns, cited, where):
    """The columns of one case line (the outcome column, the first, as an exit code), then its
    citation (``None`` when the file cites nothing)."""
    body, sep, note = line.rstrip("\n").partition(CITE)
    if cited != bool(sep) or CITE in note or (cited and not note.strip()):
        raise CaseFileError("%s: %s" % (where, "needs one '  # ' citation" if cited else "'  # ' in a case"))
    fields = _BLANKS.split(body.strip())
    if len(fields) != columns:
        raise CaseFileError("%s: %d columns, not %d" % (where, len(fields), columns))
    if fields[0] not in OUTCOMES:
        raise CaseFileError("%s: unknown outcome %r" % (where, fields[0]))
    return [OUTCOMES[fields[0]]] + [None if f == "-" else f for f in fields[1:]] + [note.strip() or None]


def read(name, columns, cited=True):
    """``(where, fields)`` for each case of ``cases/NAME``, ``where`` being ``NAME:LINE``."""
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    cases = [("%s:%d" % (name, n), parse(line, columns, cited, "%s:%d" % (name, n)))
             for n, line in enumerate(lines, 1) if is_case(line)]
    if not cases:
        raise CaseFileError("%s: no case" % name)
    return cases


def count(name):
    """How many case lines ``cases/NAME`` holds, counted without the parser."""
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return sum(1 for line in handle if is_case(line))
