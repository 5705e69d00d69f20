"""A fleet: three lab hosts side by side (fleet1..3 at 10.200.51-53.2) converged by one
site.yml run (forks >= 3) with the same users and teams; a user removed from inventory loses
access on all three in one run (of the policy tasks, `--tags dokku_teams_policy`: they apply
the users and teams; the whole role's run on the fleet is the first one).
bench/fleet prints the 1-host and 3-host run times."""
import pytest

import fleet
import kit


@pytest.fixture(scope="module")
def fleet_labs():
    try:
        labs = fleet.up()
    except (kit.labctl.LabError, kit.Failed) as e:
        fleet.down()
        pytest.fail("the fleet could not be started: %s" % e)
    yield labs
    fleet.down()


def test_one_run_converges_the_fleet_and_removes_a_user_everywhere(fleet_labs, keys, work):
    labs = fleet_labs
    r, seconds, inv = fleet.converge_fleet(str(work), labs, keys)
    print("3 hosts, one run: %.1f s" % seconds)
    assert r.rc == 0, r
    assert len([line for line in r.recap() if "failed=0" in line and "unreachable=0" in line]) == 3, r.recap()
    docs = fleet.policies(labs)
    first = docs[labs[0].name]
    assert all(doc == first for doc in docs.values()), "the hosts' policies differ"
    for lab in labs:
        kit.root(lab, "dokku apps:exists web >/dev/null 2>&1 || dokku apps:create web >/dev/null")
    before = fleet.access(labs, keys, "alice")
    assert all(code == 0 for code, err in before.values()), before

    r = kit.converge(inv, keys, fleet.without(keys, "alice"), args=("--tags", "dokku_teams_policy"),
                     forks=fleet.FORKS)
    print("3 hosts, alice removed: %.1f s" % r.seconds)
    assert r.rc == 0, r
    after = fleet.access(labs, keys, "alice")
    assert all(fleet.lost_access(v) for v in after.values()), after
    for lab in labs:
        doc = kit.export(lab)
        assert "alice" not in doc["users"]
        assert all("alice" not in t["members"] + t["owners"] for t in doc["teams"].values())
        assert kit.root(lab, "grep -c alice /home/ci/.ssh/authorized_keys || true").stdout.strip() == "0"
        assert kit.doctor(lab).returncode == 0
    # the others keep theirs
    assert all(code == 0 for code, err in fleet.access(labs, keys, "oscar", "teams:whoami").values())
