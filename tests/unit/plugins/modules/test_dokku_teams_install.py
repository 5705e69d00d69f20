# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The installer module: its options, check mode, the result and one-line failures."""

from __future__ import annotations

import os

from conftest import run_module


def install(items, check=False, diff=False):
    return run_module("dokku_teams_install", {"items": items, "_ansible_check_mode": check, "_ansible_diff": diff})


def test_check_mode_previews_writes_nothing_and_a_real_run_then_settles(tmp_path):
    conf = str(tmp_path / "etc" / "gate.conf")
    items = [{"kind": "dir", "path": str(tmp_path / "etc"), "mode": "0755", "phase": "config"},
             {"kind": "file", "path": conf, "content": "ci_user=ci\n", "mode": "0600", "phase": "config"},
             {"kind": "blocks", "path": str(tmp_path / "sshd_config"),
              "blocks": [{"marker": "# {mark} settings", "block": "MaxStartups 30:30:100"},
                         {"marker": "# {mark} old"}]}]
    (tmp_path / "sshd_config").write_text("Port 22\n# BEGIN old\nx\n# END old\n")
    checked = install(items, check=True, diff=True)
    assert checked["changed"] and checked["changes"] == [str(tmp_path / "etc"), conf, str(tmp_path / "sshd_config")]
    assert not os.path.exists(conf)
    assert [entry["after"] for entry in checked["diff"]][1:] == [
        "ci_user=ci\n", "# BEGIN settings\nMaxStartups 30:30:100\n# END settings\nPort 22\n"]
    # the engine's sources would come back with the result: only their number does
    assert checked["invocation"] == {"module_args": {"items": "3 items"}}
    done = install(items)
    assert done["changes"] == checked["changes"] and done["phases"] == ["config"]
    assert (os.stat(conf).st_mode & 0o777, open(conf).read()) == (0o600, "ci_user=ci\n")
    assert install(items) == {"changed": False, "changes": [], "phases": [],
                              "invocation": {"module_args": {"items": "3 items"}}}


def test_bad_items_fail_with_one_line_naming_the_item(tmp_path):
    missing = install([{"kind": "file", "path": str(tmp_path / "f")}])
    assert missing["failed"] and "content" in missing["msg"]
    bad_kind = install([{"kind": "fifo", "path": str(tmp_path / "f")}])
    assert bad_kind["failed"] and "fifo" in bad_kind["msg"]
    (tmp_path / "d").mkdir()
    failed = install([{"kind": "dir", "path": str(tmp_path / "ok"), "mode": "0755"},
                      {"kind": "file", "path": str(tmp_path / "d"), "content": "x"},
                      {"kind": "dir", "path": str(tmp_path / "never"), "mode": "0755"}])
    assert failed["failed"] and failed["msg"].startswith("item 2 (file %s): " % (tmp_path / "d"))
    assert "\n" not in failed["msg"] and not (tmp_path / "never").exists()
