# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry itself: every row parses, every Dokku command has one, and the engine's rules
(aliases, unknown commands, literal rows, typed values) hold for the whole table."""
from __future__ import annotations

import os
import re

import pytest

from module_utils import commands, evaluate as ev, policy, request, valuetypes
from module_utils.errors import EX_DENIED, EX_MALFORMED, EX_OK
from module_utils.registry_rows import DATASTORE_ROWS, ROWS

HERE = os.path.dirname(os.path.abspath(__file__))
SYNOPSIS_FILES = [os.path.join(HERE, "data", "dokku-commands.txt"),
                  os.path.join(HERE, "..", "..", "..", "shared", "dokku-commands.txt")]
STATE = {"version": 1, "users": {}, "teams": {
    "dokku@admin": {"owners": [], "members": ["root"], "commands": [], "apps": [], "services": []},
    "web": {"owners": [], "members": ["alice"], "commands": ["*"], "apps": ["web"],
            "services": [{"type": "postgres", "name": "web-db"}]},
}}
VIEW = policy.compile_view(STATE, "alice", ["SHA256:x"])
ADMIN = policy.compile_view(STATE, "root", ["SHA256:y"])


def _synopsis_commands(path):
    names = set()
    with open(path) as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                names.add(line.split()[0])
    return names


def _core_synopsis():
    names = set()
    for path in SYNOPSIS_FILES:
        if os.path.exists(path):
            names |= {n for n in _synopsis_commands(path) if n.partition(":")[0] not in commands.DATASTORE_TYPES}
    return names


def test_every_row_parses_and_names_are_unique():
    names = commands.all_commands()
    assert len(names) == len(set(names)) > 250
    for name in names:
        assert commands.lookup(name) is not None, name
    verbs = commands.datastore_verbs()
    assert len(verbs) == len(set(verbs)) > 30
    for kind in commands.DATASTORE_TYPES:
        for verb in verbs:
            spec = commands.lookup("%s:%s" % (kind, verb))
            assert spec is not None and spec.datastore and spec.scope in (
                "service", "service,app", "service,new", "servicelist", "app", "admin"), (kind, verb)


def test_every_synopsis_command_has_a_row():
    assert os.path.exists(SYNOPSIS_FILES[0])
    synopsis = _core_synopsis()
    assert len(synopsis) > 250
    missing = sorted(name for name in synopsis if commands.lookup(name) is None)
    assert missing == []
    datastore = {n.partition(":")[2] for n in _synopsis_commands(SYNOPSIS_FILES[0]) if n.startswith("postgres:")}
    assert sorted(datastore - set(commands.datastore_verbs())) == []


def test_every_literal_row_is_a_host_escape():
    escapes = commands.host_escape_commands()
    literal = [name for name in commands.core_commands() if commands.lookup(name).literal]
    literal += ["postgres:" + verb for verb in commands.datastore_verbs() if commands.lookup("postgres:" + verb).literal]
    assert literal and all(name in escapes for name in literal)
    assert all(commands.is_host_escape(name) for name in escapes)
    assert "postgres:backup-schedule" in escapes and "docker-options:add" in escapes


def test_text_only_on_literal_rows():
    with pytest.raises(commands.RegistryError):
        commands._parse("x:y", ["app", "@text"])
    assert commands._parse("x:y", ["app", "literal", "@text"]).literal


def test_unknown_tokens_and_types_are_registry_errors():
    for fields in (["nowhere"], ["app", "@no-such-type"], ["app", "bogus"], ["app", "prop:x"],
                   ["app", "short:x"], ["app", "when:encoded=int"], ["app", "prop:a=int", "@int"]):
        with pytest.raises(commands.RegistryError):
            commands._parse("x:y", fields)


def test_pseudo_is_the_rows_forms():
    forms = {name for name in commands.all_commands() if commands.lookup(name).scope == "form"}
    assert commands.PSEUDO == forms


@pytest.mark.parametrize("alias,target", sorted(commands.PLUGIN_ALIASES.items()))
def test_aliases_resolve(alias, target):
    assert commands.canonical(alias + ":report") == target + ":report"
    spec = commands.lookup(alias + ":report")
    assert spec is not None and spec.name == target + ":report"
    assert spec.shape == commands.lookup(target + ":report").shape


def test_alias_keeps_the_typed_row():
    assert ev.evaluate(VIEW, "dockerfile:set web dockerfile-path /etc/shadow").code == 64
    assert ev.evaluate(VIEW, "k3s:show-kubeconfig").code == 77
    assert ev.evaluate(VIEW, "docker-local:set web init-process true").code == 0


@pytest.mark.parametrize("command", ["no-such-command", "foo:bar", "ps:retire-all", "postgres:cluster-add",
                                     "caddy:logs"])
def test_unknown_command_is_admin_only(command):
    assert commands.is_admin_only(command)
    assert ev.evaluate(VIEW, command + " web").code == 77
    assert ev.evaluate(ADMIN, command + " web").code == 0


def _codes(view, *commands):
    return [ev.evaluate(view, command).code for command in commands]


def test_value_failing_its_type_is_malformed_and_untyped_property_is_denied():
    assert _codes(VIEW, "ps:set web restart-policy 'on-failure:1 --privileged'", "ps:set web no-such-property x",
                  "ps:set web restart-policy on-failure:5") == [EX_MALFORMED, EX_DENIED, EX_OK]
    # admins are trusted with any value
    assert _codes(ADMIN, "ps:set web restart-policy 'on-failure:1 --privileged'") == [EX_OK]


def test_report_info_flags():
    assert ev.evaluate(VIEW, "ps:report web --ps-restart-policy").code == 0
    assert ev.evaluate(VIEW, "ps:report web --git-sha").code == 77
    assert ev.evaluate(VIEW, "ps:report web --ps-X").code == 77
    assert ev.evaluate(VIEW, "ps:report web --ps-no-such-field").code == 77     # a closed list
    assert ev.evaluate(VIEW, "ps:report web --ps-restart-policy=x").code == 64    # a switch takes no value
    # a flag named after the app's data: the row's prefix, then a value of its type
    assert ev.evaluate(VIEW, "ps:report web --status-web.1").code == 0
    assert ev.evaluate(VIEW, "ps:report web --status-web.1=x").code == 77
    assert ev.evaluate(VIEW, "ps:report web --status-").code == 77
    assert ev.evaluate(VIEW, "ps:report web '--status-web.1;id'").code == 77
    spec = commands.lookup("resource:report")
    assert spec.info_flags == (("--resource-", "resource-key"),) and "--resource-*" not in spec.options


def test_info_flag_token_needs_a_known_type():
    assert commands._parse("x:report", ["app", "--x-*=dyno-n"]).info_flags == (("--x-", "dyno-n"),)
    with pytest.raises(commands.RegistryError):
        commands._parse("x:report", ["app", "--x-*=no-such-type"])
    with pytest.raises(commands.RegistryError):
        commands._parse("x:report", ["app", "--x-*=text"])      # text is for literal rows only


def test_short_property_form():
    assert _codes(VIEW, "proxy:set web caddy", "proxy:set web disabled") == [EX_OK, EX_DENIED]


def test_encoded_checks_every_value():
    assert _codes(VIEW, "config:set web A=aGk= --encoded", "config:set web A=aGk= 'B=not base64' --encoded",
                  "config:set web 'B=not base64'") == [EX_OK, EX_MALFORMED, EX_OK]


def test_datastore_options_reach_dokku_as_two_words():
    decision = ev.evaluate(VIEW, "postgres:link web-db web --alias=reporting -q=sslmode=require")
    assert decision.code == 0
    assert decision.argv[1:] == ["postgres:link", "web-db", "web", "--alias", "reporting", "-q", "sslmode=require"]
    # a core (pflag) command keeps its words as typed
    decision = ev.evaluate(VIEW, "ps:restart --parallel=2 web")
    assert decision.argv[1:] == ["ps:restart", "--parallel=2", "web"]


def test_datastore_options_only_after_the_positionals():
    assert ev.evaluate(VIEW, "postgres:backup web-db bucket-name --use-iam").code == 0
    assert ev.evaluate(VIEW, "postgres:backup web-db --use-iam bucket-name").code == 77
    assert ev.evaluate(VIEW, "postgres:create -I 16.4 web-db").code == 77


def test_request_marks_untyped_and_invalid_separately():
    parsed = request.parse(["nginx:set", "web", "nginx-service-command", "/bin/sh"])
    assert parsed.admin_reason and not parsed.invalid_reason
    parsed = request.parse(["nginx:set", "web", "client-max-body-size", "1m;"])
    assert parsed.invalid_reason and not parsed.admin_reason


def test_every_row_type_is_known():
    for name in commands.all_commands():
        spec = commands.lookup(name)
        for kind in commands._kinds(spec):
            assert kind is None or valuetypes.known(kind), (name, kind)


def test_rows_text_has_no_backslash():
    # the rows are plain data: a backslash would be an escape in the Python string
    assert "\\" not in ROWS and "\\" not in DATASTORE_ROWS


# A citation names a file of Dokku (or of a datastore plugin) and a line: ``ps/subcommands.go:195-205``,
# ``common-functions:458``, ``dokku:281``.
CITATION = re.compile(r"[A-Za-z0-9_.-]*[A-Za-z][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)*:[0-9]+")


def _uncited(text, prefix=""):
    """The rows of ``text`` a non-admin may run whose own lines (the row's first line and the
    continuation lines under it) carry no citation in a comment, and how many rows were checked.
    Every such row cites what Dokku does with its words itself: no row leans on a neighbour's."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0].isspace():
            rows[-1][1].append(line)
        else:
            rows.append((line.split()[0], [line]))
    uncited, checked = [], 0
    for name, lines in rows:
        spec = commands.lookup(prefix + name)
        if spec.admin_only or spec.scope in ("form", "teams"):
            continue
        checked += 1
        if not CITATION.search(" ".join(line.partition("#")[2] for line in lines)):
            uncited.append(name)
    return uncited, checked


@pytest.mark.parametrize("text,prefix,least", [(ROWS, "", 150), (DATASTORE_ROWS, "postgres:", 30)],
                         ids=["core", "datastore"])
def test_every_row_a_member_may_run_cites_its_source(text, prefix, least):
    uncited, checked = _uncited(text, prefix)
    assert uncited == [] and checked >= least


def test_an_uncited_row_is_found():
    text = ("apps:lock app\n"
            "apps:unlock app   # apps/subcommands.go:257-274\n"
            "apps:locked app   # the app's own lock file (:150)\n"
            "ps:set app prop:restore=bool\n"
            "    # ps/subcommands.go:185-193\n"
            "ps:retire admin\n")
    assert _uncited(text) == (["apps:lock", "apps:locked"], 4)
