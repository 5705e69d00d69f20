# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the words of a command into a ``Request``: what it is and what it touches.

This step knows the command table and the gate's own forms; it knows nothing about who asks.
Whatever it cannot place exactly it refuses (``Malformed``) or marks admin-only; the policy
(``policy.decide``) then weighs the request against one user's view.
"""

from __future__ import annotations

from . import commands, images
from .errors import Malformed
from .names import APP, COMMAND, SERVICE_NAME, Pattern, show

# teams:* arguments are team, user, app, service and command names, or an option such as --format.
_TEAMS_ARG_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789@._:*=-"
_TEAMS_ARG = Pattern(_TEAMS_ARG_CHARS, _TEAMS_ARG_CHARS, 128)
# A plain option name (before any '='): '-x' or '--long-name'.
_OPTION_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
_OPTION_NAME = Pattern("-", _OPTION_CHARS, 64, 2)

# Refused for everyone, wherever they stand: they change how Dokku itself runs or parses.
_REFUSED = {"--": "'--' is not accepted", "--trace": "--trace is not accepted",
            "--help": "--help is not accepted", "--app": "--app is accepted only before the command"}


class Request(object):
    """A parsed command. ``argv`` is the argument list after the program."""

    __slots__ = ("command", "program", "argv", "apps", "new_apps", "services", "new_services",
                 "admin_reason", "unknown_options", "output_filter", "image_app", "escape", "teams_args")

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

    def as_dict(self):
        return {"command": self.command, "apps": list(self.apps) + list(self.new_apps),
                "services": [{"type": t, "name": n} for t, n in list(self.services) + list(self.new_services)]}


def _app(word, what="app"):
    if not APP.match(word):
        raise Malformed("invalid %s name %s" % (what, show(word)))
    return word


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
        if spec is None or not (spec.shape in ("app", "escape") or spec.shape.startswith("app,")):
            raise Malformed("--app cannot be used with this command")
        return _dokku([command, app] + words[3:])
    if head.startswith("-"):
        raise Malformed(_REFUSED.get(head.partition("=")[0], "options are accepted only after the command"))
    if head in ("git-receive-pack", "git-upload-pack"):
        return _git(words)
    if head == "docker-over-ssh":
        return _docker_over_ssh(words)
    if head == "docker":
        return _docker(words)
    if head.startswith("teams:"):
        request = Request(head, "teams", words)
        if not COMMAND.match(head):
            raise Malformed("unknown command")
        for arg in words[1:]:
            if not _TEAMS_ARG.match(arg):
                raise Malformed("invalid argument %s for %s" % (show(arg), head))
        request.teams_args = tuple(words[1:])
        return request
    return _dokku(words)


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
    command = words[0]
    if not COMMAND.match(command):
        raise Malformed("unknown command %s" % show(command))
    spec = commands.lookup(command)
    known = spec is not None
    if not known:
        # Fail closed: an unknown command is app-scoped on its first positional argument.
        spec = commands.Spec(command, "app", {}, None, False)
    request = Request(command, "dokku", list(words))
    positionals, unknown, admin_options = _options(spec, words[1:])
    request.unknown_options = tuple(unknown)
    shape = spec.shape
    if admin_options:
        request.admin_reason = "%s is restricted to admins" % admin_options[0]
    if shape in ("admin", "escape-admin"):
        request.admin_reason = "%s is restricted to admins" % command
        request.escape = shape == "escape-admin"
        return request
    if shape == "none" or shape == "applist":
        if shape == "applist":
            request.output_filter = "apps"
        return request
    if admin_options:
        # --global / --all / --all-apps: the positionals are not an app (config:set --global K=V).
        return request
    if spec.max_positional is not None and len(positionals) > spec.max_positional:
        raise Malformed("%s takes at most %d argument(s) here (files on the server are not accepted;"
                        " send them on stdin)" % (command, spec.max_positional))
    kind = command.partition(":")[0]
    # A datastore host escape (<type>:backup-schedule) is scoped on its service, not on an app.
    if shape == "app" or (shape == "escape" and not (known and kind in commands.DATASTORE_TYPES)):
        request.escape = shape == "escape"
        if not positionals:
            request.admin_reason = request.admin_reason or "%s without an app is restricted to admins" % command
            return request
        request.apps = (_app(positionals[0]),)
        properties = commands.ADMIN_PROPERTIES.get(command)
        if properties and len(positionals) > 1 and positionals[1] in properties:
            request.admin_reason = "%s %s is restricted to admins" % (command, positionals[1])
        if command == "git:load-image":
            _load_image(request, positionals)
        elif command == "git:from-image":
            _from_image(request, positionals)
        return request
    if shape == "new":
        if len(positionals) != 1:
            raise Malformed("%s takes exactly one app" % command)
        request.new_apps = (_app(positionals[0]),)
        return request
    if shape == "app,new":
        if len(positionals) != 2:
            raise Malformed("%s takes an app and a new app name" % command)
        request.apps = (_app(positionals[0]),)
        request.new_apps = (_app(positionals[1], "new app"),)
        return request
    if shape == "servicelist":
        request.output_filter = "services:" + kind
        return request
    if not positionals:
        request.admin_reason = request.admin_reason or "%s without a service is restricted to admins" % command
        return request
    request.services = (_service(kind, positionals[0]),)
    if shape == "service,app":
        if len(positionals) < 2:
            raise Malformed("%s takes a service and an app" % command)
        request.apps = (_app(positionals[1]),)
    elif shape == "service,new":
        if len(positionals) < 2:
            raise Malformed("%s takes a service and a new service name" % command)
        request.new_services = (_service(kind, positionals[1]),)
    request.escape = shape == "escape"
    return request


def _options(spec, words):
    """Split ``words`` into positionals, options the table does not know, and admin-only options."""
    positionals, unknown, admin_options = [], [], []
    index = 0
    passthrough = False
    while index < len(words):
        word = words[index]
        index += 1
        name = word.partition("=")[0]
        if name in _REFUSED:
            raise Malformed(_REFUSED[name])
        if passthrough and name in spec.options and spec.options[name][2]:
            # enter APP --container-id ID: an admin-only option is admin-only after the app too.
            admin_options.append(name)
        if passthrough or not word.startswith("-") or word == "-":
            positionals.append(word)
            if spec.rest and len(positionals) == 1:
                passthrough = True     # the app is placed; the rest is the command to run
            continue
        option = spec.options.get(name)
        if name in commands.ADMIN_OPTIONS:
            admin_options.append(name)
            if option is None:
                unknown.append(name)
            continue
        if option is None:
            # Shown in the reason: quoted and escaped unless it is a plain option name (a tab can
            # reach here inside quotes, e.g. docker-options:add web deploy '-v<TAB>/:/x').
            unknown.append(name if _OPTION_NAME.match(name) else show(name))
            continue
        canonical, takes_value, admin_only = option
        if admin_only:
            admin_options.append(name)
        if takes_value and "=" not in word:
            if index >= len(words):
                raise Malformed("option %s needs a value" % name)
            index += 1
        elif not takes_value and "=" in word:
            raise Malformed("option %s takes no value" % name)
    return positionals, unknown, admin_options


def _load_image(request, positionals):
    if len(positionals) < 2:
        raise Malformed("git:load-image takes an app and an image dokku/APP:TAG")
    image = images.app_image(positionals[1])
    if image is None or image[0] != request.apps[0]:
        raise Malformed("git:load-image takes an image named dokku/%s:TAG" % request.apps[0])
    request.image_app = request.apps[0]


def _from_image(request, positionals):
    if len(positionals) < 2:
        raise Malformed("git:from-image takes an app and an image")
    ref = images.parse(positionals[1])
    if ref is None:
        raise Malformed("invalid image reference %s" % show(positionals[1]))
    owner = ref.local_app
    if ref.host is None and owner is None:
        raise Malformed("git:from-image takes dokku/APP:TAG or an image on a named registry"
                        " (host.name[:port]/path:tag), not a local base image")
    if owner is not None and owner != request.apps[0]:
        raise Malformed("git:from-image accepts only this app's own images (dokku/%s:TAG)" % request.apps[0])
    if ref.tag is None and ref.digest is None:
        raise Malformed("image reference needs a tag or a digest")
