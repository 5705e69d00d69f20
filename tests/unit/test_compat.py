# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku-ci-user: a bot is a member of its ci-NAME team, never its owner; --from; list shows bots."""

import io
import json
import os

import pytest

from keyutil import ed25519_line
from module_utils import compat, gateconfig
from module_utils import state as statelib
from module_utils.store import Store
from test_cli import export, policy, run  # noqa: F401  (policy is a fixture)  # pylint: disable=unused-import


@pytest.fixture
def host(policy, tmp_path):
    keys_dir = tmp_path / "ci-ssh"
    keys_dir.mkdir(mode=0o755)
    config = tmp_path / "gate.conf"
    # ci_user: authorized_keys is root:ci 0640, so the account must exist (nobody stands in)
    config.write_text("state_dir=%s\nauthorized_keys=%s/authorized_keys\nci_user=nobody\n" % (policy, keys_dir))
    os.chmod(config, 0o644)

    def ci_user(*argv, key=None):
        out, err = io.StringIO(), io.StringIO()
        code = compat.main(list(argv), store=Store(str(policy)), config=gateconfig.load(str(config)),
                           stdin=io.StringIO(key + "\n" if key else ""), stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()

    ci_user.state_dir = policy
    ci_user.authorized_keys = keys_dir / "authorized_keys"
    return ci_user


def test_the_bot_is_a_member_and_its_leaked_key_cannot_hand_out_rights(host):
    code, out, err = host("add:user", "--name", "deploy-bot", "--app", "web", key=ed25519_line("bot"))
    assert code == 0, err
    team = export(host.state_dir)["teams"]["ci-deploy-bot"]
    assert (team["owners"], team["members"]) == ([], ["deploy-bot"])
    for verb in ("teams:member-add", "teams:owner-add"):
        refused = run(host.state_dir, "check", "--user", "deploy-bot", "--", "%s ci-deploy-bot alice" % verb)
        assert refused.returncode == 77, (verb, refused.stdout, refused.stderr)
    assert run(host.state_dir, "check", "--user", "deploy-bot", "--", "git:from-image web dokku/web:1").returncode == 0


def test_a_bot_made_owner_by_an_earlier_version_is_demoted_on_the_next_add(host):
    store = Store(str(host.state_dir))
    with store.transaction() as tx:
        new = statelib.add_user(tx.state, "old-bot", [ed25519_line("old")])
        new = statelib.create_team(new, "ci-old-bot")
        new = statelib.add_members(new, "ci-old-bot", ["old-bot"], "owner")
        tx.state = statelib.add_members(new, "ci-old-bot", ["old-bot"], "member")
    code, unused_out, err = host("add:user", "--name", "old-bot", "--app", "web", key=ed25519_line("old"))
    assert code == 0, err
    team = export(host.state_dir)["teams"]["ci-old-bot"]
    assert (team["owners"], team["members"]) == ([], ["old-bot"])


def test_from_is_repeatable_validated_and_written_to_the_key_line(host):
    code, out, err = host("add:user", "--name", "bot", "--app", "web", "--from", "10.0.0.0/8",
                          "--from=192.168.1.7", key=ed25519_line("bot"))
    assert code == 0, err
    assert "from 10.0.0.0/8,192.168.1.7" in out
    assert export(host.state_dir)["users"]["bot"]["from"] == ["10.0.0.0/8", "192.168.1.7"]
    line = [x for x in host.authorized_keys.read_text().splitlines() if "--user bot " in x]
    assert len(line) == 1 and 'from="10.0.0.0/8,192.168.1.7"' in line[0]
    before = export(host.state_dir)
    code, unused_out, err = host("add:user", "--name", "bot2", "--app", "web", "--from", "10.0.0.1/8", key=ed25519_line("b2"))
    assert code != 0 and "host bits" in err and len(err.splitlines()) == 1, err
    assert export(host.state_dir) == before
    # given again, --from replaces the list; left out, it is kept
    assert host("add:user", "--name", "bot", "--app", "api", "--from", "172.16.0.0/12", key=ed25519_line("bot"))[0] == 0
    assert host("add:user", "--name", "bot", "--app", "api", key=ed25519_line("bot"))[0] == 0
    assert export(host.state_dir)["users"]["bot"]["from"] == ["172.16.0.0/12"]


def test_list_shows_the_bots_only(host):
    host("add:user", "--name", "deploy-bot", "--app", "web", "--from", "10.0.0.0/8", key=ed25519_line("bot"))
    code, out, err = host("list")
    assert code == 0, err
    assert out == "=====> CI users\ndeploy-bot web from=10.0.0.0/8\n"
    code, out, unused_err = host("list", "--format", "json")
    assert json.loads(out) == [{"name": "deploy-bot", "apps": ["web"], "from": ["10.0.0.0/8"]}]
