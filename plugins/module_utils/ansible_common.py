# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the ``dokku_*`` modules share: options, the config, the store, diffs, authorized_keys.

Every module computes its new state from a snapshot first (that is all check mode does, and
it rejects bad input before anything is written); only when the policy changes does it take
the store's lock and commit. The commit re-applies the change when another writer got there
in between, so an update is never lost.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dokku_ci.teams.plugins.module_utils import gateconfig, hostsync
from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
from ansible_collections.dokku_ci.teams.plugins.module_utils.errors import DokkuTeamsError, Invalid, StateError
from ansible_collections.dokku_ci.teams.plugins.module_utils.store import Store

DEFAULT_CONFIG = gateconfig.DEFAULT_PATH
DEFAULT_STATE_DIR = gateconfig.DEFAULTS["state_dir"]


def common_argument_spec():
    """The options every module takes: where the state and the gate config live."""
    return dict(
        state_dir=dict(type="path"),
        config=dict(type="path", default=DEFAULT_CONFIG),
    )


def new_module(argument_spec, **kwargs):
    """The ``AnsibleModule`` of a dokku_ci.teams module: its own options plus the common ones
    (doc fragment ``dokku_teams``); every module supports check mode."""
    spec = dict(argument_spec)
    spec.update(common_argument_spec())
    return AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)


class Context(object):
    """The module's view of the host: config (or ``None``), state directory, store."""

    def __init__(self, module):
        self.module = module
        self.config_path = module.params["config"]
        self.config = None
        if self.config_path and os.path.lexists(self.config_path):
            self.config = gateconfig.load(self.config_path)
        state_dir = module.params["state_dir"]
        if not state_dir:
            state_dir = self.config.state_dir if self.config is not None else DEFAULT_STATE_DIR
        self.state_dir = state_dir
        self.store = Store(state_dir)

    def dokku_root(self):
        """Where Dokku keeps its apps (the Dokku user's home)."""
        return self.config.home if self.config is not None else gateconfig.DEFAULTS["home"]

    # ---- state

    def snapshot(self):
        """``(state, exists)``: the validated state, or an empty one when there is none yet."""
        if not self.store.exists():
            return statelib.empty_state(), False
        return self.store.load(), True

    def apply(self, mutate):
        """Apply ``mutate(state) -> new state`` and commit it unless in check mode.

        Returns ``(changed, before, after)`` with both states validated (normalised).
        """
        current, exists = self.snapshot()
        after = normalise(mutate(current), current["serial"])
        changed = after != current
        if not changed and exists:
            return False, current, current
        if self.module.check_mode:
            return True, current, after
        if not exists:
            self.store.init()
        with self.store.transaction() as tx:
            if tx.old == current:
                tx.state = after
            else:
                # another writer changed the state since the snapshot: apply the change again
                current = tx.old
                tx.state = after = normalise(mutate(tx.old), tx.old["serial"])
        return bool(tx.changed) or not exists, current, after

    # ---- authorized_keys

    def sync_authorized_keys(self, state):
        """Regenerate the ``ci`` account's authorized_keys (check mode: compare only).

        Returns ``(changed, before, after)``; without a config file nothing is touched and
        the module warns.
        """
        if self.config is None:
            self.module.warn("the gate config %s does not exist, so authorized_keys was not regenerated"
                             " (install the gate with the dokku_teams role, or point config at its file)"
                             % self.config_path)
            return False, None, None
        if self.module.check_mode:
            after = hostsync.render(self.config, state)
            before = hostsync.current(self.config)
            return before != after, before, after
        return hostsync.write_authorized_keys(self.config, state)


def normalise(candidate, serial):
    """The validated, normalised form of a state the mutations returned."""
    doc = dict(candidate)
    doc["serial"] = serial
    return statelib.validate(doc, internal=True)


def section_diff(before, after, section, only=None):
    """``(before, after)`` dicts holding only the entries of ``section`` that differ."""
    old, new = before.get(section, {}), after.get(section, {})
    names = set(old) | set(new) if only is None else set(only)
    out_before, out_after = {}, {}
    for name in sorted(names):
        if old.get(name) != new.get(name):
            if name in old:
                out_before[name] = old[name]
            if name in new:
                out_after[name] = new[name]
    return out_before, out_after


def state_diff(before, after, section):
    old, new = section_diff(before, after, section)
    return {"before": {section: old}, "after": {section: new}}


def keys_diff(path, before, after):
    return {"before_header": path, "after_header": path, "before": before or "", "after": after or ""}


def changes(before, after, section):
    """``(added, removed, updated)`` names of ``section`` between two states."""
    old, new = before.get(section, {}), after.get(section, {})
    added = sorted(name for name in new if name not in old)
    removed = sorted(name for name in old if name not in new)
    updated = sorted(name for name in new if name in old and old[name] != new[name])
    return added, removed, updated


def team_record(state, name):
    """A team as the modules return it: its record and its name (``None`` when absent)."""
    record = state["teams"].get(name)
    return None if record is None else dict(record, name=name)


def existing_team(state, team):
    """The modules that change one team never create it: that is ``dokku_team``'s job."""
    if team not in state["teams"]:
        raise Invalid("Team %s does not exist: create it with dokku_ci.teams.dokku_team first" % team)


def finish(module, result, before, after, section="teams"):
    """Exit with ``result`` and, in diff mode, the entries of ``section`` that changed."""
    if module._diff:
        result["diff"] = state_diff(before, after, section)
    module.exit_json(**result)


def host_escape_warnings(module, state, teams):
    """Warn about every host-escape command granted to one of ``teams``; return them all."""
    flagged = [{"team": team, "command": command} for team, command in statelib.host_escape_grants(state)]
    for item in flagged:
        if item["team"] in teams:
            module.warn("team %s is granted the host-escape command %s: its members can reach the host outside"
                        " Dokku's sandbox (root-equivalent); grant it only to people you would give root"
                        % (item["team"], item["command"]))
    return flagged


def run(module, body):
    """Run ``body()`` and turn the engine's errors into ``fail_json`` with their message."""
    try:
        return body()
    except StateError as error:
        module.fail_json(msg="the dokku-teams state cannot be used: %s" % error.message)
    except DokkuTeamsError as error:
        module.fail_json(msg=error.message)
    except OSError as error:
        module.fail_json(msg="%s%s" % (error.strerror or error, ": %s" % error.filename if error.filename else ""))
