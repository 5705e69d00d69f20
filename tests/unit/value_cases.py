# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The world of the value cases (test_values.py, cases/values-*.txt): alice is a member of team
``web``, which grants every command (``*``) on the apps web and web-api and the service postgres
web-db; another team holds the app ``secret``."""
from __future__ import annotations

from module_utils import evaluate as ev
from module_utils import policy

STATE = {"version": 1, "users": {}, "teams": {
    "dokku@admin": {"owners": [], "members": ["root"], "commands": [], "apps": [], "services": []},
    "web": {"owners": [], "members": ["alice"], "commands": ["*"], "apps": ["web", "web-api"],
            "services": [{"type": "postgres", "name": "web-db"}]},
    "other": {"owners": [], "members": ["bob"], "commands": ["*"], "apps": ["secret"], "services": []},
}}
VIEW = policy.compile_view(STATE, "alice", ["SHA256:x"])


def code_of(raw, view=VIEW):
    return ev.evaluate(view, raw).code
