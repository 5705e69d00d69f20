# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy guard's reading of ``app.json`` (Dokku 0.38 ``plugins/app-json``).

Dokku copies it from ``appjson-path`` in the source tree or the source image
(``app-json/triggers.go`` ``TriggerCorePostExtract``) and acts on it on the host:

- ``env`` sets config keys and values on every deploy (``app-json/triggers.go:212-216``,
  ``app-json/functions.go:540-658``), past the gate's ``config-key`` type: a key such as
  ``BASH_ENV`` or ``DOKKU_GLOBAL_RUN_ARGS`` is then exported into Dokku's own shell. Every key and
  value is held to what ``config:set`` takes from a member (``valuetypes``).
- a healthcheck's ``onFailure`` is run by ``docker-container-healthchecker``, which Dokku starts
  through sudo (``scheduler-docker-local/check-deploy:169``, ``install:19-22``): a command there
  runs on the host as root. No member's app.json may have one.

Go reads it as JSONC (``hujson``) and matches field names without regard to case, merging a
map's duplicate keys; this reads plain JSON only (comments or trailing commas are a refusal) and
looks at every pair, whatever its case.
"""

from __future__ import annotations

import json

from . import valuetypes
from .names import show


class _Pairs(list):
    """A JSON object as its pairs in order: every duplicate key is looked at."""


def _refuse_constant(name):
    raise ValueError("%s is not JSON" % name)


def _keys(node):
    if isinstance(node, _Pairs):
        for key, value in node:
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def _env_refusal(env):
    if env is None:
        return None
    if not isinstance(env, _Pairs):
        return "env is not an object"
    for key, entry in env:
        if not valuetypes.t_config_key(key):
            return "env sets %s, a config key a member may not set (config:set refuses it too)" % show(key)
        if isinstance(entry, str):
            values = [entry]
        elif isinstance(entry, _Pairs):
            values = [value for field, value in entry if field.casefold() == "value"]
        else:
            return "env %s is neither a string nor an object" % key
        for value in values:
            if value is not None and not (isinstance(value, str) and valuetypes.config_value(value)):
                return "env %s has a value config:set would refuse (a backslash, a control character)" % key
    return None


def refusal(text):
    """Why Dokku must not use this app.json (a phrase), or None."""
    try:
        document = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return "cannot be read as plain JSON (the guard reads no comments or trailing commas)"
    if not isinstance(document, _Pairs):
        return "is not a JSON object"
    if any(key.casefold() == "onfailure" for key in _keys(document)):
        return "has a healthcheck onFailure, which docker-container-healthchecker runs on the host as root"
    for key, value in document:
        if key.casefold() == "env":
            why = _env_refusal(value)
            if why is not None:
                return why
    return None
