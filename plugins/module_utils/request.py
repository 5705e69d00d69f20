# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the words of a command into a ``Request``: what it is and what it touches.

This step knows the command table and the gate's own forms; it knows nothing about who asks.
Whatever it cannot place exactly it refuses (``Malformed``) or marks admin-only; the policy
(``policy.decide``) then weighs the request against one user's view.
"""

from __future__ import annotations

from . import commands, images, valuetypes
from .errors import Malformed
from .names import APP, COMMAND, SERVICE_NAME, Pattern, show

# teams:* arguments are team, user, app, service and command names, or an option such as --format.
_TEAMS_ARG_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789@._:*=-"
_TEAMS_ARG = Pattern(_TEAMS_ARG_CHARS, _TEAMS_ARG_CHARS, 128)
# A plain option name (before any '='): '-x' or '--long-name'.
_OPTION_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
_OPTION_NAME = Pattern("-", _OPTION_CHARS, 64, 2)
# A property name as shown in a reason (anything else is not echoed).
_PROPERTY = Pattern("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789-", 64)

# The gate's own forms: their grant names, and what a client types for them.
_GRANT_SPELLINGS = {"docker:pull": "docker-over-ssh pull dokku/APP:TAG",
                    "docker:tag": "docker tag dokku/APP:TAG dokku/APP:TAG",
                    "docker:version": "docker version"}

# Refused for everyone, wherever they stand: they change how Dokku itself runs or parses.
_REFUSED = {"--": "'--' is not accepted", "--trace": "--trace is not accepted",
            "--help": "--help is not accepted", "--app": "--app is accepted only before the command"}


class Request(object):
    """A parsed command. ``argv`` is the argument list after the program."""

    __slots__ = ("command", "program", "argv", "apps", "new_apps", "services", "new_services",
                 "admin_reason", "unknown_options", "output_filter", "image_app", "escape", "teams_args",
                 "spec", "handler", "invalid_reason")

    def __init__(self, command, program, argv):
        self.command = command          # the name grants are matched against
        self.program = program          # dokku | docker | docker-over-ssh | teams
        self.argv = argv
        self.apps = ()                  # existing apps it touches (need a grant)
        self.new_apps = ()              # apps it creates (apps:create/rename/clone)
        self.services = ()              # (type, name) pairs it touches
        self.new_services = ()
        self.admin_reason = None        # set when only an admin may run it
        self.unknown_options = ()       # options the table does not list (refused for non-admins)
        self.output_filter = None       # "apps" or "services:TYPE": the gate filters the listing
        self.image_app = None           # git:load-image: the only app the image stream may carry
        self.escape = False             # a host escape: only a literal grant allows it
        self.teams_args = ()
        self.spec = None                # the registry row (None for the gate's own forms)
        self.handler = "exec"           # exec | listing | spool | record | teams
        self.invalid_reason = None      # a value failed its type: malformed for non-admins

    def as_dict(self):
        return {"command": self.command, "apps": list(self.apps) + list(self.new_apps),
                "services": [{"type": t, "name": n} for t, n in list(self.services) + list(self.new_services)]}


def _app(word, what="app"):
    if not APP.match(word):
        raise Malformed("invalid %s name %s" % (what, show(word)))
    return word


def _new_app(word, request):
    """A new app's name: no dot for a member. Every container joins Docker networks as
    ``APP.PROCESS[.TLD]`` (network/functions.go:44-51), so ``other.web`` with a tld would answer
    for app ``other``'s web process."""
    app = _app(word, "new app")
    if "." in app:
        _invalid(request, "a new app name has no dot (network aliases are APP.PROCESS.TLD)")
    return app


def _service(kind, word):
    if not SERVICE_NAME.match(word):
        raise Malformed("invalid %s service name %s" % (kind, show(word)))
    return (kind, word)


def parse(words):
    """Parse the words of one command (``cmdline.split_command``'s output)."""
    if not words:
        raise Malformed("no shell access")
    if words[0] == "dokku":
        words = words[1:]
        if not words:
            raise Malformed("no command given")
    head = words[0]
    if head == "--app":
        # dokku's own client sends `--app APP CMD ARGS...`: the same as `CMD APP ARGS...`.
        if len(words) < 3:
            raise Malformed("--app needs an app and a command")
        app, command = _app(words[1]), words[2]
        spec = commands.lookup(command)
        if spec is None or spec.scope not in ("app", "app,new"):
            raise Malformed("--app cannot be used with this command")
        request = _dokku([command, app] + words[3:])
        if request.apps[:1] != (app,):
            raise Malformed("--app cannot be used with this command")
        return request
    if head.startswith("-"):
        raise Malformed(_REFUSED.get(head.partition("=")[0], "options are accepted only after the command"))
    if head in _GRANT_SPELLINGS:
        # The grant's name is not what a client types: say what to type instead.
        raise Malformed("%s is the name of the grant; type: %s" % (head, _GRANT_SPELLINGS[head]))
    if head in ("git-receive-pack", "git-upload-pack"):
        return _git(words)
    if head == "docker-over-ssh":
        return _docker_over_ssh(words)
    if head == "docker":
        return _docker(words)
    if head.startswith(("teams:", "team:")):
        if not COMMAND.match(head):
            raise Malformed("unknown command")
        spec = commands.lookup(head)
        request = Request(spec.name if spec is not None else head, "teams", words)
        request.spec = spec
        request.handler = "teams"
        for arg in words[1:]:
            if not _TEAMS_ARG.match(arg):
                raise Malformed("invalid argument %s for %s" % (show(arg), head))
        if spec is None:
            request.teams_args = tuple(words[1:])
        else:
            request.teams_args = teams_words(spec, words[1:])[0]
        return request
    return _dokku(words)


def _wants_report_flag(spec):
    return any(kind == "report-flag" for kind, unused_card in spec.positionals)


def teams_words(spec, args):
    """``(positionals, options, field)`` of a teams verb's arguments, typed by its row.

    The one parser of teams options: the gate parses with it before the policy reads the team
    (``positionals[0]``), and ``teamverbs`` (the CLI, ``dokku teams:*``) after. ``options`` maps
    an option to its value (``True`` for a switch); ``field`` is the one field flag of a report
    (``--username``), or ``None``.
    """
    positionals = []
    options = {}
    field = None
    takes_field = _wants_report_flag(spec)
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if not word.startswith("-") or word == "-":
            positionals.append(word)
            continue
        name, eq, value = word.partition("=")
        option = spec.options.get(name)
        if option is None:
            if takes_field and not eq and valuetypes.check("report-flag", word):
                if field is not None:
                    raise Malformed("%s takes one field flag" % spec.name)
                field = word
                continue
            raise Malformed("unknown option %s for %s" % (
                name if _OPTION_NAME.match(name) else show(name), spec.name))
        canonical, value_type, unused_admin_only = option
        if value_type is None:
            if eq:
                raise Malformed("option %s takes no value" % name)
            options[canonical] = True
            continue
        if not eq:
            if index >= len(args):
                raise Malformed("option %s needs a value" % name)
            value = args[index]
            index += 1
        if not valuetypes.check(value_type, value):
            raise Malformed("option %s takes %s" % (name, valuetypes.describe(value_type)))
        options[canonical] = value
    return tuple(positionals), options, field


def _git(words):
    if len(words) != 2:
        raise Malformed("%s takes exactly one repository" % words[0])
    # The client quotes the path ('APP' or '/APP'); split_command has removed the quotes.
    app = words[1][1:] if words[1].startswith("/") else words[1]
    request = Request(words[0], "dokku", [words[0], "'%s'" % _app(app)])
    request.apps = (app,)
    return request


def _docker_over_ssh(words):
    if len(words) != 3 or words[1] != "pull":
        raise Malformed("docker-over-ssh accepts only: pull dokku/APP:TAG")
    image = images.app_image(words[2])
    if image is None:
        raise Malformed("docker-over-ssh pull takes an image dokku/APP:TAG")
    request = Request("docker:pull", "docker-over-ssh", ["pull", words[2]])
    request.apps = (image[0],)
    return request


def _docker(words):
    if words[1:] == ["version"]:
        return Request("docker:version", "docker", ["version"])
    if len(words) == 4 and words[1] == "tag":
        source, target = images.app_image(words[2]), images.app_image(words[3])
        if source is None or target is None:
            raise Malformed("docker tag takes two images dokku/APP:TAG")
        request = Request("docker:tag", "docker", ["tag", words[2], words[3]])
        request.apps = tuple(dict.fromkeys((source[0], target[0])))
        return request
    raise Malformed("docker accepts only: version, tag dokku/A:T dokku/B:T")


def _dokku(words):
    typed = words[0]
    if not COMMAND.match(typed):
        raise Malformed("unknown command %s" % show(typed))
    command = commands.canonical(typed)
    spec = commands.lookup(command)
    # Dokku runs the alias's target: grants, the audit and the argv all name that command.
    request = Request(command, "dokku", [command] + list(words[1:]))
    if spec is None or spec.scope in ("form", "teams"):
        request.admin_reason = "%s is not a command the gate knows; it is restricted to admins" % show(typed)
        return request
    request.spec = spec
    request.escape = spec.literal
    request.handler = spec.handler
    # Whatever the row says: Dokku exports every --word of the command in DOKKU_GLOBAL_FLAGS
    # (common/functions:479-523) and plugn's go-basher writes it into a bash file where a
    # backslash ends its quoting (valuetypes: _PRINTABLE).
    for word in words[1:]:
        if word.startswith("--") and "\\" in word:
            _invalid(request, "%s: no backslash in an option" % show(word))
    positionals, seen = _options(spec, words[1:], request)
    if spec.scope == "admin":
        request.admin_reason = "%s is restricted to admins" % command
    elif not request.admin_reason:
        # (An admin reason already set is --global / --all / --all-apps: the positionals are
        # not an app, as in config:set --global K=V.)
        _scoped(spec, positionals, request, seen)
    return request


def _scoped(spec, positionals, request, seen):
    """Read the positionals as the row's scope says: the apps, new apps and services the
    request touches, then the rest by their types."""
    command = request.command
    scope = spec.scope
    if scope in ("none", "applist", "servicelist"):
        if scope == "applist":
            request.output_filter = "apps"
        elif scope == "servicelist":
            request.output_filter = "services:" + command.partition(":")[0]
        _typed_rest(spec, positionals, request, seen)
        return
    if scope == "new":
        if len(positionals) != 1:
            raise Malformed("%s takes exactly one app" % command)
        request.new_apps = (_new_app(positionals[0], request),)
        return
    if scope == "app,new":
        if len(positionals) != 2:
            raise Malformed("%s takes an app and a new app name" % command)
        request.apps = (_app(positionals[0]),)
        request.new_apps = (_new_app(positionals[1], request),)
        return
    if not positionals:
        what = "an app" if scope.startswith("app") else "a service"
        request.admin_reason = "%s without %s is restricted to admins" % (command, what)
        return
    if scope == "app":
        request.apps = (_app(positionals[0]),)
        _typed_rest(spec, positionals[1:], request, seen)
        if spec.handler == "spool":
            request.image_app = request.apps[0]
        return
    kind = command.partition(":")[0]
    request.services = (_service(kind, positionals[0]),)
    rest = positionals[1:]
    if scope == "service,app":
        if not rest:
            # Dokku would act on $DOKKU_APP_NAME (dokku-postgres subcommands/link:50).
            request.admin_reason = "%s without an app is restricted to admins" % command
            return
        request.apps = (_app(rest[0]),)
        rest = rest[1:]
    elif scope == "service,new":
        if not rest:
            raise Malformed("%s takes a service and a new service name" % command)
        request.new_services = (_service(kind, rest[0]),)
        rest = rest[1:]
    _typed_rest(spec, rest, request, seen)


def _invalid(request, reason):
    """A value that fails its type: malformed for a non-admin (admins are trusted with it)."""
    if request.invalid_reason is None:
        request.invalid_reason = reason


def _missing(request, reason):
    """A required word is missing. When an admin-only option is present the count it changes
    is not the row's (``registry:login --password-stdin``): the option decides, not the count."""
    if not request.unknown_options and not request.admin_reason:
        _invalid(request, reason)


def _typed_rest(spec, words, request, seen=()):
    """Check the words after the scope's own against the row's properties or positionals."""
    command = spec.name
    ctx = request.apps[0] if request.apps else None
    if spec.properties is not None:
        if not words:
            _invalid(request, "%s needs a property" % command)
            return
        prop = words[0]
        kind = spec.properties.get(prop)
        if kind is None and len(words) == 1 and spec.short is not None \
                and valuetypes.check(spec.properties[spec.short], prop, ctx):
            return      # Dokku's short form: `proxy:set APP nginx` sets `type`

        if kind is None:
            request.admin_reason = request.admin_reason or "%s %s is restricted to admins" % (
                command, prop if _PROPERTY.match(prop) else "with this property")
            return
        if len(words) > 2:
            request.admin_reason = request.admin_reason or \
                "%s %s takes one value here; more are restricted to admins" % (command, prop)
            return
        if len(words) == 2 and not valuetypes.check(kind, words[1], ctx):
            _invalid(request, "%s %s takes %s" % (command, prop, valuetypes.describe(kind)))
        return
    index = 0
    retype = spec.when[1] if spec.when is not None and spec.when[0] in seen else None
    for kind, card in spec.positionals:
        kind = retype or kind
        if card in ("1", "?"):
            if index >= len(words):
                if card == "1":
                    _missing(request, "%s needs %s" % (command, valuetypes.describe(kind)))
                    return
                continue
            if not valuetypes.check(kind, words[index], ctx):
                _invalid(request, "%s takes %s here" % (command, valuetypes.describe(kind)))
                return
            index += 1
            continue
        if card == "+" and index >= len(words):
            _missing(request, "%s needs %s" % (command, valuetypes.describe(kind)))
            return
        for word in words[index:]:
            if not valuetypes.check(kind, word, ctx):
                _invalid(request, "%s takes %s here" % (command, valuetypes.describe(kind)))
                return
        index = len(words)
    if index < len(words):
        request.admin_reason = request.admin_reason or \
            "%s with %d more argument(s) is restricted to admins" % (command, len(words) - index)


def _scope_words(spec):
    """How many positional words the scope itself takes."""
    if spec.scope in ("none", "applist", "servicelist", "admin"):
        return 0
    return 2 if "," in spec.scope else 1


def _required_words(spec):
    """The positionals an ``opts-last`` row reads by index before its options."""
    return _scope_words(spec) + sum(1 for unused_kind, card in spec.positionals if card in ("1", "+"))


def _info_flag(spec, word):
    """A report info flag Dokku names after the app's data (``--status-web.1``): one of the
    row's prefixes followed by a value of its type."""
    return any(word.startswith(prefix) and valuetypes.check(kind, word[len(prefix):])
               for prefix, kind in spec.info_flags)


def _options(spec, words, request):
    """The positional words of ``words`` and the option names seen; options are checked against
    the row on the way. A datastore row's ``--opt=V`` reaches Dokku as ``--opt V``."""
    positionals = []
    seen = set()
    out = []
    index = 0
    stop_after = _scope_words(spec) if spec.opts_stop else None
    required = _required_words(spec) if spec.opts_last else 0
    while index < len(words):
        word = words[index]
        index += 1
        name = word.partition("=")[0]
        if name in _REFUSED:
            raise Malformed(_REFUSED[name])
        passthrough = stop_after is not None and len(positionals) > stop_after
        if passthrough or not word.startswith("-") or word == "-":
            positionals.append(word)
            out.append(word)
            continue
        out.append(word)
        if len(positionals) < required:
            request.admin_reason = request.admin_reason or \
                "%s takes its options after its arguments; others are restricted to admins" % spec.name
        option = spec.options.get(name)
        if option is None:
            if name in commands.ADMIN_OPTIONS:
                request.admin_reason = request.admin_reason or "%s is restricted to admins" % name
            elif word == name and _info_flag(spec, word):
                seen.add(word)
            else:
                request.unknown_options += (name if _OPTION_NAME.match(name) else show(name),)
            continue
        canonical, value_type, admin_only = option
        seen.add(canonical)
        if admin_only:
            request.admin_reason = request.admin_reason or "%s %s is restricted to admins" % (spec.name, name)
        if value_type is None:
            if "=" in word:
                raise Malformed("option %s takes no value" % name)
            continue
        if "=" in word:
            value = word.partition("=")[2]
            if spec.datastore:
                out[-1:] = [name, value]
        else:
            if index >= len(words):
                raise Malformed("option %s needs a value" % name)
            value = words[index]
            index += 1
            out.append(value)
            # A value that is itself a refused or admin-only option would reach Dokku's own
            # parser as that option (`--parallel --all`): never let one hide there.
            if value in _REFUSED or value in commands.ADMIN_OPTIONS:
                raise Malformed("option %s needs a value, not %s" % (name, value))
        if not valuetypes.check(value_type, value):
            _invalid(request, "option %s takes %s" % (name, valuetypes.describe(value_type)))
    if spec.datastore:
        request.argv = [request.argv[0]] + out
    return positionals, seen
