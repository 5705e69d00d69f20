# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 16 item 4: an allowed command whose program is not installed (docker-over-ssh is
installed only on request) is its own one-line error, audited as an error, and doctor lists
every grant that needs a missing program."""

import os

from test_cli import run
from test_gate import world  # noqa: F401  (a fixture)  # pylint: disable=unused-import


def test_a_missing_target_is_its_own_error_never_an_allow(world):
    os.unlink(world.dos)
    result = world.run("alice", world.fp["alice"], "docker-over-ssh pull dokku/web:v1")
    assert result.returncode == 69, result.stderr
    assert result.stderr.decode() == ("!     docker-over-ssh is not installed on this host; ask an admin"
                                      " (dokku-teams doctor lists it)\n")
    assert world.calls_made() == []
    record = world.audit_records()[-1]
    assert record["decision"] == "error" and record["code"] == 69, record
    assert "docker-over-ssh (allowed:" in record["reason"] and world.dos in record["reason"]
    assert [r for r in world.audit_records() if r["decision"] == "allow"] == []
    # the other programs still run
    assert world.run("alice", world.fp["alice"], "docker version").returncode == 0


def test_doctor_lists_every_grant_whose_program_is_missing(world):
    config = os.path.join(world.root, "doctor.conf")
    with open(config, "w") as handle:
        handle.write(world.config_text(docker_over_ssh=os.path.join(world.root, "no-such-program")))
    os.chmod(config, 0o644)
    doctor = run(None, "--config", config, "doctor")
    lines = [line for line in doctor.stderr.splitlines() if "no-such-program" in line]
    assert len(lines) == 1 and "docker:* (web)" in lines[0], doctor.stderr
    # A warning: the state itself is sound, so it does not make doctor answer 75 by itself.
    assert lines[0].startswith("!     warning: "), doctor.stderr
