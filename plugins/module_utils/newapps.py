# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a new app name (apps:create, rename, clone) is free for a user to take.

A name is held when a team the user is not a member of lists it (or its app team exists), or
when the app exists on the host and none of the user's teams holds it. Creating such a name
would take another team's app over (an app team keeps its members when the app is destroyed
and created again) or tell that it exists (Dokku's "already taken"): the gate answers it like a
missing app. Only the commands that create apps pay for reading the whole state.
"""

from __future__ import annotations

import os

from .names import APP, APP_TEAM_PREFIX


def held_by_others(state, user, apps_root):
    """A function ``app -> bool`` for ``user`` over the validated ``state``; ``apps_root`` is
    Dokku's app directory (``/home/dokku``), or None to ignore the host."""
    teams = state["teams"]

    def held(app):
        if not APP.match(app):
            return True
        names_it = [(name, team) for name, team in teams.items()
                    if app in team["apps"] or name == APP_TEAM_PREFIX + app]
        if any(user in team["members"] for unused, team in names_it):
            return False      # a team of the user holds it (an admin's grant, or the user's app team)
        if names_it:
            return True       # another team holds it
        if any(user in team["members"] and "*" in team["apps"] for team in teams.values()):
            return False      # every app is the user's already
        return apps_root is not None and os.path.isdir(os.path.join(apps_root, app))

    return held
