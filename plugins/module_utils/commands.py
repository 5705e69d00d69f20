# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry: one row for every verb the gate knows, with the type of every word it takes.

``request.py`` parses a command with its row, ``policy.py`` decides on what the row says the
command touches, the gate picks its handler from the row, ``teamverbs.py`` and the tools that
show the policy read the same rows. Adding a verb is adding a row (and a handler when the gate
must do something new). The rows themselves live in ``registry_rows.py`` with the Dokku source
lines that justify each opened value.

A row::

    NAME  SCOPE  TOKEN...     # comments cite the source
          TOKEN...            # a line starting with blanks continues the row

SCOPE says what the first positional words touch:

    none         touches no app (version)           admin     admin-only whatever follows
    app          an existing app                    new       a new app (apps:create)
    app,new      an app, then a new app             applist   every app: the gate filters the output
    service      a service of the command's type    service,app / service,new
    servicelist  the type's services: filtered      teams     a teams:* verb (see ``who:``)
    form         one of the gate's own forms (git-receive-pack, docker ...), parsed in request.py

TOKENs:

    literal           a host escape: no glob grants it, only its exact name
    --opt             a switch; ``--opt=TYPE`` takes a value; ``-o|--opt=TYPE`` aliases;
                      a trailing ``!`` makes the option admin-only
    --PREFIX*=TYPE    a report info flag that Dokku names after the app's own data: the word
                      PREFIX followed by a TYPE value (``--status-*=dyno-n``: ``--status-web.1``);
                      a report's fixed flags are listed as switches. Dokku only looks the flag up
                      in the report's own map (common/common.go:739-771, 928-941)
    @TYPE @TYPE? @TYPE* @TYPE+    the positional words after the scope's own, in order
                      (``@choice:a|b`` takes one of the listed words)
    prop:NAME=TYPE    a ``:set`` property (``PROPERTY [VALUE]``; no value unsets it)
    short:PROP        a lone word that is no listed property but a valid PROP value is that value
                      (``proxy:set APP nginx`` = ``proxy:set APP type nginx``)
    opts-stop         options end at the first positional after the scope's words: the rest is
                      a container command line
    opts-last         no option before the row's required positionals (the datastore plugins
                      read positionals by index, then ``getopts`` the rest); their
                      ``--opt=V`` is passed to Dokku as ``--opt V`` (bash getopts would read
                      ``--alias=X`` as ``-a lias=X``)
    when:--SW=TYPE    with the switch --SW anywhere, every positional is of TYPE instead
    do:HANDLER        how the gate carries it out: exec (default), listing, spool, record, teams
    who:WHO           teams verbs: anyone, owner, admin

A teams row types its options (``--format``, ``--force``) and, with ``@report-flag?``, says the
verb takes one field flag (``--username``, ``--team-apps``: ``teamverbs`` knows the fields); its
other words are team, user, app and command names, which the state checks.

Everything a row does not type is admin-only: an unknown command, an option, a property, one
positional word too many. A value that fails its type is malformed. (The gate finds one row in
the text instead of parsing the table: its start-up cost does not grow with the registry.)
"""

from __future__ import annotations

from .registry_rows import DATASTORE_ROWS, ROWS
from .valuetypes import known as _known_type

# Options no command accepts from a non-admin, wherever they stand.
ADMIN_OPTIONS = frozenset(("--global", "--all", "--all-apps"))

# Dokku rewrites these command prefixes before it dispatches (the ``dokku`` script,
# execute_dokku_cmd's PLUGIN_ALIASES): a grant is matched against the command Dokku runs.
PLUGIN_ALIASES = {
    "docker-local": "scheduler-docker-local", "dockerfile": "builder-dockerfile",
    "herokuish": "builder-herokuish", "k3s": "scheduler-k3s", "lambda": "builder-lambda",
    "nixpacks": "builder-nixpacks", "pack": "builder-pack", "rails": "builder-railpack",
}

# The teams verbs' other spellings (Dokku Pro's plurals, and the CLI's ``team:`` prefix).
TEAMS_ALIASES = {
    "members-add": "member-add", "members-remove": "member-remove",
    "owners-add": "owner-add", "owners-remove": "owner-remove",
    "commands-add": "command-add", "commands-remove": "command-remove",
    "apps-add": "app-add", "apps-remove": "app-remove",
    "services-add": "service-add", "services-remove": "service-remove",
    "report": "team-report", "access-report": "team-report",
}

# The official datastore plugins share one set of verbs under their own prefix.
DATASTORE_TYPES = frozenset((
    "postgres", "mysql", "mariadb", "redis", "mongo", "rabbitmq", "elasticsearch", "couchdb",
    "memcached", "nats", "rethinkdb", "solr", "clickhouse", "meilisearch", "omnisci", "graphite",
    "pushpin", "typesense",
))

SCOPES = frozenset(("none", "admin", "app", "new", "app,new", "applist", "service", "service,app",
                    "service,new", "servicelist", "teams", "form"))
HANDLERS = frozenset(("exec", "listing", "spool", "record", "teams"))
WHO = frozenset(("grant", "anyone", "owner", "admin"))


class Spec(object):
    """One verb's row, parsed."""

    __slots__ = ("name", "scope", "literal", "options", "positionals", "properties", "opts_stop",
                 "handler", "who", "info_flags", "short", "opts_last", "when", "datastore")

    def __init__(self, name, scope):
        self.name = name
        self.scope = scope
        self.literal = False
        self.options = {}        # option word -> (canonical name, value type or None, admin_only)
        self.positionals = []    # [(type, cardinality)] with cardinality one of "1", "?", "*", "+"
        self.properties = None   # for :set rows: property -> value type
        self.opts_stop = False
        self.handler = "exec"
        self.who = "grant"
        self.info_flags = ()     # ((prefix, type), ...): report info flags named after data
        self.short = None        # property a lone value word stands for
        self.opts_last = False
        self.when = None         # (switch, type): with the switch, every positional is of type
        self.datastore = False   # a datastore verb (options passed to Dokku as two words)

    @property
    def shape(self):
        """The scope, with host escapes marked (``escape``, ``escape-admin``) for older callers."""
        if self.literal:
            return "escape-admin" if self.scope == "admin" else "escape"
        return self.scope

    @property
    def admin_only(self):
        return self.scope == "admin" or self.who == "admin"


class RegistryError(ValueError):
    """A row the registry cannot read (a bug in the table, caught by the tests)."""


def _parse(name, fields):
    if not fields or fields[0] not in SCOPES:
        raise RegistryError("%s: unknown scope %r" % (name, fields[:1]))
    spec = Spec(name, fields[0])
    for field in fields[1:]:
        if field == "literal":
            spec.literal = True
        elif field == "opts-stop":
            spec.opts_stop = True
        elif field == "opts-last":
            spec.opts_last = True
        elif field.startswith("short:"):
            spec.short = field[6:]
        elif field.startswith("when:"):
            switch, eq, kind = field[5:].partition("=")
            if not switch.startswith("--") or not eq:
                raise RegistryError("%s: bad token %r" % (name, field))
            spec.when = (switch, _type(name, kind))
        elif field.startswith("--") and "*=" in field:
            prefix, unused_sep, kind = field.partition("*=")
            spec.info_flags += ((prefix, _type(name, kind)),)
        elif field.startswith("do:"):
            spec.handler = _one_of(name, field[3:], HANDLERS)
        elif field.startswith("who:"):
            spec.who = _one_of(name, field[4:], WHO)
        elif field.startswith("prop:"):
            prop, eq, kind = field[5:].partition("=")
            if not eq or not prop:
                raise RegistryError("%s: bad property %r" % (name, field))
            if spec.properties is None:
                spec.properties = {}
            spec.properties[prop] = _type(name, kind)
        elif field.startswith("@"):
            kind, card = field[1:], "1"
            if kind[-1:] in ("?", "*", "+"):
                kind, card = kind[:-1], kind[-1]
            spec.positionals.append((_type(name, kind), card))
        elif field.startswith("-"):
            admin_only = field.endswith("!")
            field = field.rstrip("!")
            option, eq, kind = field.partition("=")
            value_type = _type(name, kind) if eq else None
            aliases = option.split("|")
            for alias in aliases:
                spec.options[alias] = (aliases[-1], value_type, admin_only)
        else:
            raise RegistryError("%s: unknown token %r" % (name, field))
    if spec.properties is not None and spec.positionals:
        raise RegistryError("%s: a row takes properties or positionals, not both" % name)
    if spec.short is not None and spec.short not in (spec.properties or {}):
        raise RegistryError("%s: short:%s names no property of the row" % (name, spec.short))
    if not spec.literal and "text" in _kinds(spec):
        raise RegistryError("%s: the type text is for literal rows only" % name)
    return spec


def _kinds(spec):
    kinds = [kind for kind, unused_card in spec.positionals]
    kinds += [option[1] for option in spec.options.values()]
    kinds += list((spec.properties or {}).values())
    kinds += [kind for unused_prefix, kind in spec.info_flags]
    return kinds


def _one_of(name, value, choices):
    if value not in choices:
        raise RegistryError("%s: %r is not one of %s" % (name, value, sorted(choices)))
    return value


def _type(name, kind):
    if not _known_type(kind):
        raise RegistryError("%s: unknown value type %r" % (name, kind))
    return kind


def _row(text, name):
    """The tokens of ``name``'s row in ``text`` (found, not parsed: the gate needs one row)."""
    at = text.find("\n" + name + " ")
    if at < 0:
        return None
    fields = []
    end = at
    first = True
    while True:
        start = end + 1
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        line = text[start:end]
        if not first and not line[:1].isspace():
            break
        first = False
        fields.extend(line.partition("#")[0].split())
        if end >= len(text):
            break
    return fields[1:]


def canonical(command):
    """The command Dokku actually runs for ``command`` (its plugin aliases resolved)."""
    prefix, sep, rest = command.partition(":")
    target = PLUGIN_ALIASES.get(prefix)
    if target is None:
        return command
    return target + sep + rest


def lookup(command):
    """The spec for ``command`` (aliases resolved), or ``None`` when the registry does not know it."""
    if not command or " " in command or "\n" in command or "#" in command:
        return None
    command = canonical(command)
    if command.startswith(("teams:", "team:")):
        verb = command.partition(":")[2]
        command = "teams:" + TEAMS_ALIASES.get(verb, verb)
    fields = _row(ROWS, command)
    if fields is not None:
        return _parse(command, fields)
    kind, sep, verb = command.partition(":")
    if sep and kind in DATASTORE_TYPES:
        fields = _row(DATASTORE_ROWS, verb)
        if fields is not None:
            spec = _parse(command, fields)
            spec.datastore = True
            return spec
    return None


def _names(text):
    return [line.split()[0] for line in text.splitlines()
            if line[:1] not in ("", " ", "\t", "#") and line.split()]


def all_commands():
    """Every command name of the registry: core, the gate's forms and teams verbs."""
    return _names(ROWS)


def core_commands():
    """Every Dokku core command the registry knows (not the gate's forms, not teams verbs)."""
    return [name for name in _names(ROWS) if lookup(name).scope not in ("form", "teams")]


def datastore_verbs():
    return _names(DATASTORE_ROWS)


def teams_verbs():
    return [name.partition(":")[2] for name in _names(ROWS) if name.startswith("teams:")]


def host_escape_commands():
    """Commands no glob grants: they can reach the host outside Dokku's sandbox. A team gets
    one only by naming it literally, and every tool that shows the policy flags it."""
    names = [name for name in core_commands() if lookup(name).literal]
    names += ["%s:%s" % (kind, verb) for kind in sorted(DATASTORE_TYPES) for verb in datastore_verbs()
              if lookup("%s:%s" % (kind, verb)).literal]
    return frozenset(names)


def admin_only_commands():
    """Commands that are admin-only whatever their arguments."""
    return frozenset(name for name in core_commands() if lookup(name).scope == "admin")


def is_host_escape(command):
    spec = lookup(command)
    return spec is not None and spec.literal


def is_admin_only(command):
    spec = lookup(command)
    return spec is None or spec.admin_only


# Pseudo-commands of the gate's own forms (see request.py), for tools that list commands. A
# literal, not read from the rows, so that importing this module parses nothing (a test checks
# that it matches the rows' ``form`` scope).
PSEUDO = frozenset(("git-receive-pack", "git-upload-pack", "docker:pull", "docker:tag", "docker:version"))
