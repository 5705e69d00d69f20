# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guard against mass removal: an inventory whose variables did not load looks exactly
like an inventory that declares nobody, and purge would then remove every user and team and
lock the admins out. A change that removes every user, every team or every admin, or more
than a share of the users or teams, is refused unless the caller allows it explicitly.

The guard runs on the computed change (before and after states), so check mode, the role's
early plan and the real write all refuse the same thing with the same words.
"""

from __future__ import annotations

from .errors import Invalid
from .names import ADMIN_TEAM, is_app_team

DEFAULT_SHARE = 0.5
ALLOW = "allow_mass_removal=true (dokku_teams_allow_mass_removal: true in the dokku_teams role)"
SHARE = "max_removal_share (dokku_teams_max_removal_share in the dokku_teams role)"


def check_share(share):
    if share is None:
        return DEFAULT_SHARE
    if not 0 <= share <= 1:
        raise Invalid("max_removal_share must be between 0 and 1, not %s" % share)
    return share


def _listing(names, limit=20):
    names = sorted(names)
    text = ", ".join(names[:limit])
    return text + (" and %d more" % (len(names) - limit) if len(names) > limit else "")


def _problems(what, had, gone, share):
    """Why removing ``gone`` out of ``had`` needs an explicit allowance (None when it does not)."""
    if not gone:
        return None
    if gone == had:
        return "every %s (%s)" % (what, _listing(gone))
    if len(gone) > 1 and len(gone) > share * len(had):
        return "%d of %d %ss (%s), more than the allowed share %g" % (
            len(gone), len(had), what, _listing(gone), share)
    return None


def purged_teams(before, purge_app_teams):
    """The teams a purge may touch: never dokku@admin, app teams only on request."""
    return set(name for name in before["teams"]
               if name != ADMIN_TEAM and (purge_app_teams or not is_app_team(name)))


def guard(before, after, allow, share, purge=True, users=True, teams=True, purge_app_teams=False):
    """Raise ``Invalid`` when the change from ``before`` to ``after`` removes too much.

    ``users``/``teams`` say which sections the caller's purge covers; losing every admin is
    checked whatever removed them.
    """
    if allow:
        return
    share = check_share(share)
    reasons = []
    if purge and users:
        had = set(before["users"])
        reason = _problems("user", had, had - set(after["users"]), share)
        if reason:
            reasons.append(reason)
    if purge and teams:
        had = purged_teams(before, purge_app_teams)
        reason = _problems("team", had, had - set(after["teams"]), share)
        if reason:
            reasons.append(reason)
    admins = set(before["teams"].get(ADMIN_TEAM, {}).get("members", ()))
    left = set(after["teams"].get(ADMIN_TEAM, {}).get("members", ()))
    if admins and not left:
        reasons.append("every admin (the members of %s: %s)" % (ADMIN_TEAM, _listing(admins)))
    if reasons:
        raise Invalid("refusing to remove %s. An inventory whose variables did not load (a group_vars"
                      " file that does not match the group, a misspelt variable name) looks like this;"
                      " check the declaration. If the removal is intended, set %s%s."
                      % ("; ".join(reasons), ALLOW,
                         "" if all(r.startswith("every ") for r in reasons) else ", or raise " + SHARE))
