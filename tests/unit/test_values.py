# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values of commands: what Dokku (and the official datastore plugins) do with each word, and what
the gate lets through. The cases are data, one a line, in ``cases/values-*.txt`` (runtime, build,
proxy, datastore): the outcome, the command as a user types it, and the source line it guards."""
from __future__ import annotations

import copy
import glob
import os

import pytest

import casefile
from module_utils.policy import compile_view
from value_cases import STATE, VIEW, code_of

# backup-schedule is a literal-only host escape: a team gets it only by naming it.
STATE_LITERAL = copy.deepcopy(STATE)
STATE_LITERAL["teams"]["web"]["commands"] = ["*", "postgres:backup-schedule"]
VIEWS = {"values-datastore-literal.txt": compile_view(STATE_LITERAL, "alice", ["SHA256:x"])}

FILES = ("values-runtime.txt", "values-build.txt", "values-proxy.txt", "values-datastore.txt",
         "values-datastore-literal.txt")
CASES = [pytest.param(name, where, raw, code, id="%s: %s" % (name[7:-4], raw[:80]))
         for name in FILES for where, (code, raw, _source) in casefile.read(name, 2)]


@pytest.mark.parametrize("name,where,raw,code", CASES)
def test_value(name, where, raw, code):
    assert code_of(raw, VIEWS.get(name, VIEW)) == code, where


def test_every_case_file_is_read_whole():
    on_disk = sorted(os.path.basename(p) for p in glob.glob(os.path.join(casefile.HERE, "values-*.txt")))
    assert on_disk == sorted(FILES)
    for name in FILES:
        read = sum(1 for case in CASES if case.values[0] == name)
        assert read == casefile.count(name) > 0, name


@pytest.mark.parametrize("line,columns,cited", [
    ("ok  apps:list", 2, True),                             # no citation
    ("ok  apps:list  # a  # b", 2, True),                   # two citations
    ("ok  apps:list  #   ", 2, True),                       # an empty citation
    ("fine  apps:list  # x:1", 2, True),                    # unknown outcome
    ("ok apps:list  # x:1", 2, True),                       # one blank: one column
    ("ok  apps:list  extra  # x:1", 2, True),               # a column too many
    ("ok  alice  -  apps:list  # x:1", 5, False),           # a citation where none belongs
])
def test_a_case_line_that_does_not_fit_stops_the_collection(line, columns, cited):
    with pytest.raises(casefile.CaseFileError, match="^f.txt:3: "):
        casefile.parse(line, columns, cited, "f.txt:3")
