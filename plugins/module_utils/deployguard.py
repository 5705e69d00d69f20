# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy guard's decision: may this deploy go on to Dokku's own ``core-post-extract``?

It looks at what Dokku is about to use, from the same places Dokku takes it (Dokku 0.38):

- ``CHECKS``: ``plugins/scheduler-docker-local/core-post-extract`` copies it from the source tree,
  or with a ``source-image`` (``git:from-image``, ``git:load-image``) from that image (relative
  to its working directory: ``plugins/common/docker.go`` ``CopyFromImage``/``GetWorkingDir``),
  and renders it with ``sigil -f`` after exporting the app's merged config;
- the nginx template at ``nginx-conf-sigil-path`` (app, then global, then ``nginx.conf.sigil``:
  ``plugins/nginx-vhosts/nginx_vhosts.go`` ``ComputedNginxConfSigilPath``), copied the same way
  by ``plugins/nginx-vhosts/core-post-extract`` and rendered right there by
  ``fn-nginx-vhosts-pre-validate-custom-template`` (which prints it back on failure);
- all of them inside ``builder:set APP build-dir`` when it is set (``plugins/builder/triggers.go``
  ``TriggerCorePostExtract`` makes that directory the tree before the plugins below run);
- the Dockerfile at ``dockerfile-path`` (``plugins/builder-dockerfile/core-post-extract`` moves
  it to ``Dockerfile`` after this trigger) and ``Dockerfile``; for image deploys the tree's
  Dockerfile is the one ``plugins/git/git-from-image`` wrote (``FROM IMAGE``).

Templates are read with the delimiters sigil would use (``SIGIL_DELIMS`` from the environment
or the app's config, which Dokku exports before rendering). A template file that is a link out
of the source tree is refused (Dokku would copy, render and on failure print a host file).
"""

from __future__ import annotations

import os

from . import appjsonguard, dockerfile, imagecheck, sigilfuncs, sigilparse
from .names import show

DEFAULT_LIB_ROOT = "/var/lib/dokku"
MAX_FILE = 1024 * 1024

WHY = {
    "sh": "runs a program on the host",
    "httpget": "fetches a URL from the host",
    "include": "reads a host file", "file": "reads a host file", "text": "reads a host file",
    "json": "reads a host file", "yaml": "reads a host file", "base64enc": "reads a host file",
    "base64dec": "reads a host file", "exists": "looks at host paths", "dir": "lists a host directory",
    "dirs": "lists a host directory", "files": "lists a host directory",
    "render": "renders a template built at run time", "stdin": "reads Dokku's input",
    "var": "reads Dokku's environment",
}


class Refusal(object):
    __slots__ = ("where", "line", "what")

    def __init__(self, where, line, what):
        self.where = where
        self.line = line
        self.what = what

    def message(self):
        at = "%s line %d" % (self.where, self.line) if self.line else self.where
        return "deploy refused by the deploy guard: %s: %s" % (at, self.what)


def _prop(lib_root, plugin, app, key):
    """A Dokku property, app value first then the global one (``plugins/common/properties.go``)."""
    for scope in (app, "--global"):
        try:
            with open(os.path.join(lib_root, "config", plugin, scope, key), "rb") as handle:
                value = handle.read(4096).decode("utf-8", "replace").strip("\n")
        except OSError:
            continue
        if value:
            return value
    return ""


def _env_value(text, key):
    """``key``'s value in a godotenv file (what ``config:set`` writes), None when absent."""
    found = None
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith("export "):
            line = line[7:].lstrip()
        name, eq, value = line.partition("=")
        if not eq or name.strip() != key:
            continue
        value = value.strip()
        if value[:1] == '"':
            out, pos = [], 1
            while pos < len(value) and value[pos] != '"':
                if value[pos] == "\\" and pos + 1 < len(value):
                    pos += 1
                    out.append({"n": "\n", "r": "\r"}.get(value[pos], value[pos]))
                else:
                    out.append(value[pos])
                pos += 1
            found = "".join(out)
        elif value[:1] == "'":
            found = value[1:].partition("'")[0]
        else:
            found = value.split(" #", 1)[0].strip()
    return found


def delimiter_pairs(lib_root, app, environ):
    """Every delimiter pair sigil could render this app's templates with."""
    values = [environ.get("SIGIL_DELIMS")]
    for scope in ("--global", app):
        try:
            with open(os.path.join(lib_root, "config", scope, "ENV"), "rb") as handle:
                text = handle.read(MAX_FILE).decode("utf-8", "replace")
        except OSError:
            continue
        values.append(_env_value(text, "SIGIL_DELIMS"))
    pairs = []
    for value in values:
        pair = sigilparse.delims_from(value)
        if pair is not None and pair not in pairs:
            pairs.append(pair)
    return pairs or [("{{", "}}")]


def _function_name(name):
    return name if name.isascii() and name.replace("_", "a").isalnum() else show(name)


def check_template(where, text, pairs):
    """A ``Refusal`` when the template calls anything outside the allow-list (or cannot be read)."""
    for pair in pairs:
        try:
            calls = sigilparse.functions_called(text, pair)
        except sigilparse.TemplateError as error:
            return Refusal(where, error.line, "cannot be read as a template (%s)" % error.message)
        bad = sigilfuncs.refused(calls)
        if bad is not None:
            name, line = bad
            why = WHY.get(name, "is not one of the pure functions the guard allows")
            return Refusal(where, line, "calls %s, which %s" % (_function_name(name), why))
    return None


def check_dockerfile(where, text, app, inspect=None, source_image=None):
    try:
        uses = dockerfile.image_uses(text)
    except dockerfile.DockerfileError as error:
        return Refusal(where, error.line, "cannot be read as a Dockerfile (%s)" % error.message)
    for use in uses:
        why = imagecheck.refusal(app, use.how, use.ref, inspect)
        if why is not None:
            shown = show(use.ref) if imagecheck.images.parse(use.ref) is not None else "its image"
            return Refusal(where, use.line, "%s %s is %s" % (use.how, shown, why))
    found = dockerfile.label_refusal(text, source_image)
    return None if found is None else Refusal(where, found[0], found[1])


def _decode(data):
    return data.decode("utf-8", "replace")


def read_tree_file(workdir, relative, where):
    """``(text, refusal)`` of a file in the source tree as Dokku would copy it (``cp -f`` from
    the tree, links followed); ``(None, None)`` when there is none."""
    full = relative if relative.startswith("/") else os.path.join(workdir, relative)
    if not os.path.lexists(full):
        return None, None
    if not relative.startswith("/"):
        root = os.path.realpath(workdir)
        real = os.path.realpath(full)
        if real != root and not real.startswith(root + "/"):
            return None, Refusal(where, 0, "is a link out of the source tree")
    if not os.path.isfile(full):
        return None, None
    try:
        with open(full, "rb") as handle:
            data = handle.read(MAX_FILE + 1)
    except OSError:
        return None, Refusal(where, 0, "cannot be read")
    if len(data) > MAX_FILE:
        return None, Refusal(where, 0, "is larger than the guard reads (%d bytes)" % MAX_FILE)
    return _decode(data), None


# Files Dokku takes from the tree that no template check can make safe: nginx (root) reads every
# directive of the app's own template (log paths it opens, files it includes: nginx-vhosts/
# core-post-extract:19-36, templates/dokku.conf.sigil:1), and OpenResty turns include files into
# labels its proxy loads beside the Docker socket (openresty-vhosts/core-post-extract:63-90,
# docker-args-process-deploy:34-59). An admin who has read them trusts the app instead.
NGINX_WHY = "is an nginx template, which nginx reads as root: `dokku-teams app:trust APP` once an admin has read it"
INCLUDES_WHY = "holds OpenResty includes, which its proxy loads beside the Docker socket: an admin must trust the app"
OPENRESTY_INCLUDES = ("openresty/http-includes", "openresty/http-location-includes")


def _label(path, default):
    return path if path == default else show(path)


def _files(lib_root, app, pairs):
    """``(where, path, check)`` for each file Dokku takes from the tree or the source image;
    ``check(where, text)`` is a ``Refusal`` or None."""
    def template(where, text):
        return check_template(where, text, pairs)

    def app_json(where, text):
        why = appjsonguard.refusal(text) if text.strip() else None
        return None if why is None else Refusal(where, 0, why)

    def never(why):
        return lambda where, text: Refusal(where, 0, why)

    nginx_path = _prop(lib_root, "nginx", app, "nginx-conf-sigil-path") or "nginx.conf.sigil"
    app_json_path = _prop(lib_root, "app-json", app, "appjson-path").strip("/") or "app.json"
    return ([("CHECKS", "CHECKS", template), (_label(nginx_path, "nginx.conf.sigil"), nginx_path, never(NGINX_WHY)),
             (_label(app_json_path, "app.json"), app_json_path, app_json)]
            + [(path, path, never(INCLUDES_WHY)) for path in OPENRESTY_INCLUDES])


def _image_config_refusal(config):
    """What the source image's own config hands the app's build and containers: labels Dokku
    and the proxies read, and ONBUILD triggers BuildKit runs in the ``FROM IMAGE`` build
    git-from-image writes (a ``COPY --from=dokku/OTHER`` there is never in a Dockerfile here)."""
    if config.get("OnBuild"):
        return "has ONBUILD triggers, which run in the app's build and are not checked here"
    return imagecheck.image_label_refusal(config.get("Labels"))


def _image_files(app, source_image, files, image_reader, inspect, image_config):
    if image_reader is None or image_config is None:
        return Refusal("source image", 0, "cannot be inspected here (no Docker client)")
    why = imagecheck.refusal(app, "FROM", source_image, inspect)
    if why is not None:
        shown = show(source_image) if imagecheck.images.parse(source_image) is not None else "its image"
        return Refusal("source image", 0, "%s is %s" % (shown, why))
    try:
        why = _image_config_refusal(image_config(source_image))
        found = image_reader(source_image, [path for unused, path, unused_check in files])
    except ImageReadError as error:
        return Refusal("source image", 0, "its files cannot be read (%s)" % error)
    if why is not None:
        return Refusal("source image", 0, why)
    for where, path, check in files:
        data = found.get(path)
        if data is None:
            continue
        if len(data) > MAX_FILE:
            return Refusal(where, 0, "is larger than the guard reads (%d bytes)" % MAX_FILE)
        refusal = check(where + " in the image", _decode(data))
        if refusal is not None:
            return refusal
    return None


def _tree_files(workdir, files):
    for where, path, check in files:
        if path in OPENRESTY_INCLUDES:
            text, refusal = ("", None) if os.path.lexists(os.path.join(workdir, path)) else (None, None)
        else:
            text, refusal = read_tree_file(workdir, path, where)
        if refusal is None and text is not None:
            refusal = check(where, text)
        if refusal is not None:
            return refusal
    return None


def decide(app, workdir, environ, lib_root=DEFAULT_LIB_ROOT, image_reader=None, inspect=None,  # pylint: disable=too-many-arguments
           image_config=None):
    """The first ``Refusal`` for this deploy, or None. ``image_reader(image, paths)`` returns
    ``{path: bytes or None}`` for files inside a source image and ``image_config(image)`` its
    ``Config`` (``ImageReadError`` when they cannot); ``inspect`` is ``imagecheck``'s local-image
    lookup."""
    # plugins/builder/triggers.go TriggerCorePostExtract (a Go trigger, `builder` sorts before the
    # plugins below) replaces the tree with its build-dir: the files come from there.
    build_dir = _prop(lib_root, "builder", app, "build-dir").strip("/")
    if build_dir:
        inside = os.path.realpath(os.path.join(workdir, build_dir))
        root = os.path.realpath(workdir)
        if not inside.startswith(root + "/"):
            return Refusal("build-dir %s" % show(build_dir), 0, "is a link out of the source tree")
        workdir = inside
    files = _files(lib_root, app, delimiter_pairs(lib_root, app, environ))
    source_image = _prop(lib_root, "git", app, "source-image")
    if source_image:
        refusal = _image_files(app, source_image, files, image_reader, inspect, image_config)
    else:
        refusal = _tree_files(workdir, files)
    if refusal is not None:
        return refusal
    dockerfiles = ["Dockerfile"]
    configured = _prop(lib_root, "builder-dockerfile", app, "dockerfile-path")
    if configured and configured != "Dockerfile":
        dockerfiles.insert(0, configured)
    for path in dockerfiles:
        where = show(path) if path != "Dockerfile" else path
        text, refusal = read_tree_file(workdir, path, where)
        if refusal is None and text is not None:
            refusal = check_dockerfile(where, text, app, inspect, source_image)
        if refusal is not None:
            return refusal
    return None


class ImageReadError(Exception):
    pass
