# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``deploy-guard``: the program behind the deploy guard's ``core-post-extract`` trigger.

Dokku runs it as the ``dokku`` user with ``APP SOURCECODE_WORK_DIR REV`` (``plugins/git/functions``
``git_trigger_build``) before its own ``core-post-extract`` triggers (the plugin directory's
name puts it first in plugn's order). Every deploy of an app an admin has not trusted
(``dokku-teams app:trust APP``) is checked by ``deployguard.decide``, whoever starts it: what it
judges is the content, and a member can plant content that an admin's or the host's own rebuild
later builds (a branch pushed but not deployed, then ``git:set APP deploy-branch``; a property
that names another file at the next build). A refusal is one line on stderr and exit 1: plugn stops at
the first failing trigger and ``git_trigger_build`` returns, so nothing is rendered or built.

Usage: deploy-guard --guard-file FILE APP WORKDIR [REV]
"""

from __future__ import annotations

import os
import sys

from . import guardfile
from .errors import EX_FAIL, EX_MALFORMED
from .names import APP, show


def who_passes(doc, app):
    """Why this deploy is not checked (a phrase), or None when it is."""
    if app in doc["trusted"]:
        return "app %s is trusted" % app
    return None


def run(argv, environ, owner_uid=0, image_reader=None, inspect=None, out=None, err=None,  # pylint: disable=too-many-arguments
        image_config=None):
    out = out or sys.stdout
    err = err or sys.stderr
    if len(argv) < 4 or argv[0] != "--guard-file":
        err.write("!     usage: deploy-guard --guard-file FILE APP WORKDIR [REV]\n")
        return EX_MALFORMED
    guard_path, app, workdir = argv[1], argv[2], argv[3]
    if not APP.match(app):
        err.write("!     deploy refused by the deploy guard: app name %s cannot be checked\n" % show(app))
        return EX_FAIL
    reason = who_passes(guardfile.read(guard_path, owner_uid), app)
    if reason is not None:
        out.write("-----> Deploy guard: not checked (%s)\n" % reason)
        return 0
    from . import deployguard
    lib_root = environ.get("DOKKU_LIB_ROOT") or deployguard.DEFAULT_LIB_ROOT
    if image_reader is None and inspect is None:
        from . import imagefiles
        docker = imagefiles.Docker(environ.get("DOCKER_BIN") or "docker")

        def image_reader(image, paths):
            return docker.read(app, image, paths)
        inspect, image_config = docker.inspect, docker.config
    try:
        refusal = deployguard.decide(app, workdir, environ, lib_root, image_reader, inspect, image_config)
    except deployguard.ImageReadError as error:
        refusal = deployguard.Refusal("the local Docker engine", 0, "cannot be asked (%s)" % error)
    if refusal is not None:
        err.write("!     %s\n" % refusal.message())
        return EX_FAIL
    out.write("-----> Deploy guard: %s passed\n" % app)
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(argv, os.environ)
    except Exception:  # pylint: disable=broad-except
        # Never a traceback, never a pass: a guard that cannot decide refuses.
        sys.stderr.write("!     deploy refused by the deploy guard: it could not finish its checks\n")
        return EX_FAIL
