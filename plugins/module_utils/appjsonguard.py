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
  runs on the host as root. No member's app.json may have one. Its ``path`` is pasted after the
  container's address (``%s://%s:%d%s``, healthchecker ``appjson/healthcheck.go:433``): ``@``
  makes the address a user name and the request goes anywhere, as root, its answer printed; a
  path is ``/`` and URL-safe characters, a scheme ``http`` or ``https``.
- ``cron`` schedules go into the one crontab of every app (``cron/crontab.go:170-219``,
  ``crontab -u dokku``): Dokku's parser (robfig/cron) takes spellings cron refuses (``@every``,
  ``?``), and a refused crontab fails every app's deploy and stop. A schedule is five fields of
  digits, ``*/,-`` and month or day names, or one of cron's own ``@`` keywords.
- ``formation`` and ``healthchecks`` are keyed by process type, and a formation's names are
  written unquoted into the file GNU ``parallel`` runs through a shell
  (``scheduler-docker-local/scheduler-deploy:55-79``; ``ps/functions.go:143-170`` checks names
  only when there is a Procfile): every key is a process type (``valuetypes.t_proctype``).

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


_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~/%?&=+-")


def _by_process_type(section, what):
    if section is None:
        return None
    if not isinstance(section, _Pairs):
        return "%s is not an object" % what
    for key, unused in section:
        if not valuetypes.t_proctype(key):
            return "%s names %s, which is not a process type" % (what, show(key))
    return None


def _check_fields(pairs):
    """A healthcheck's path and scheme, wherever they stand (any case)."""
    for key, value in pairs:
        folded = key.casefold()
        if folded == "path" and not (isinstance(value, str) and value[:1] == "/" and len(value) <= 2048
                                     and all(c in _PATH_CHARS for c in value)):
            return "a healthcheck path %s is not a plain /path (the healthchecker requests it as root)" % show(
                value if isinstance(value, str) else repr(value))
        if folded == "scheme" and value not in ("", "http", "https", None):
            return "a healthcheck scheme is not http or https"
    return None


def _healthchecks_refusal(section):
    why = _by_process_type(section, "healthchecks")
    if why is not None or section is None:
        return why
    for unused, checks in section:
        for check in checks if isinstance(checks, list) else [checks]:
            if not isinstance(check, _Pairs):
                return "a healthcheck is not an object"
            why = _check_fields(check)
            if why is not None:
                return why
    return None


_CRON_KEYWORDS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_FIELD = frozenset("0123456789*/,-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _schedule_ok(schedule):
    if schedule in _CRON_KEYWORDS:
        return True
    fields = schedule.split(" ") if isinstance(schedule, str) else []
    return len(fields) == 5 and all(0 < len(f) <= 64 and all(c in _CRON_FIELD for c in f) for f in fields)


def _cron_refusal(section):
    if section is None:
        return None
    if not isinstance(section, list) or not all(isinstance(task, _Pairs) for task in section):
        return "cron is not a list of objects"
    for task in section:
        for key, value in task:
            if key.casefold() == "schedule" and not _schedule_ok(value):
                return "a cron schedule %s is not one the host's cron reads (five fields, or @daily...)" % show(
                    value if isinstance(value, str) else repr(value))
    return None


_SECTIONS = {"env": _env_refusal, "healthchecks": _healthchecks_refusal, "cron": _cron_refusal,
             "formation": lambda section: _by_process_type(section, "formation")}


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
        check = _SECTIONS.get(key.casefold())
        why = check(value) if check is not None else None
        if why is not None:
            return why
    return None
