# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``teams:*`` over the real gate: the audit line records what the verb really did, an owner
is not told which user names exist, and no user can keep the state lock from other writers."""

import json
import os
import threading
import time

import pytest

import gate_helpers as H
from module_utils import state as statelib
from module_utils import writebudget
from module_utils.store import Store


@pytest.fixture
def world():
    w = H.World()
    w.fp = {}
    for name in ("alice", "bob", "olivia", "oscar", "carol", "root-admin"):
        w.fp[name] = w.add_user(name)
    w.admin("root-admin")
    w.team("web", members=["alice"], owners=["olivia"], commands=["ps:*", "apps:create"], apps=["web"])
    w.team("ops", owners=["oscar"], commands=["ps:*"], apps=["api"])
    yield w
    w.cleanup()


def records(w):
    return w.audit_records()


def test_a_teams_verb_is_audited_once_with_its_real_outcome(world):
    w = world
    ok = w.run("olivia", w.fp["olivia"], "teams:member-add web bob")
    assert ok.returncode == 0, ok.stderr
    # The policy allows an owner to remove owners; the verb itself refuses the last one (65).
    refused = w.run("olivia", w.fp["olivia"], "teams:owner-remove web olivia")
    assert refused.returncode == 65 and b"must keep at least one owner" in refused.stderr
    lines = records(w)
    assert len(lines) == 2, lines          # one line per verb: no "allow, code 0" written beforehand
    assert (lines[0]["decision"], lines[0]["code"], lines[0]["team"]) == ("allow", 0, "web")
    assert "Added to web members: bob" in lines[0]["reason"]
    assert (lines[1]["decision"], lines[1]["code"], lines[1]["team"]) == ("deny", 65, "web")
    assert "must keep at least one owner" in lines[1]["reason"]
    assert w.store.load()["teams"]["web"]["owners"] == ["olivia"]


def test_a_teams_verb_is_refused_when_its_audit_line_could_not_be_written(world):
    w = world
    open(w.audit_log, "w").close()
    os.chmod(w.audit_log, 0o666)                       # the gate refuses a log others can write
    result = w.run("olivia", w.fp["olivia"], "teams:member-add web bob")
    assert result.returncode == 75
    assert "bob" not in w.store.load()["teams"]["web"]["members"]


def test_the_grant_team_is_recorded_for_ordinary_commands(world):
    w = world
    assert w.run("alice", w.fp["alice"], "ps:restart web").returncode == 0
    assert records(w)[-1]["team"] == "web"
    assert w.run("alice", w.fp["alice"], "ps:restart api").returncode == 77
    assert records(w)[-1]["team"] is None


def test_member_add_does_not_tell_an_owner_which_users_exist(world):
    w = world
    real = w.run("olivia", w.fp["olivia"], "teams:member-add web carol")
    ghost = w.run("olivia", w.fp["olivia"], "teams:member-add web ghost")
    assert (ghost.returncode, ghost.stdout.replace(b"ghost", b"carol"), ghost.stderr) == \
        (real.returncode, real.stdout, real.stderr) == (0, real.stdout, b"")
    for verb in ("owner-add", "member-add"):
        mixed = w.run("olivia", w.fp["olivia"], "teams:%s web bob nobody-here" % verb)
        assert mixed.returncode == 0 and mixed.stderr == b"", mixed.stderr
    web = w.store.load()["teams"]["web"]
    assert "ghost" not in web["members"] and "nobody-here" not in web["members"] + web["owners"]
    assert "carol" in web["members"] and "bob" in web["members"] and "bob" in web["owners"]
    # the admin reading the audit log learns what the owner was not told
    assert "not users, left out: ghost" in records(w)[1]["reason"]
    # a malformed name is refused as before (that says nothing about who exists)
    assert w.run("olivia", w.fp["olivia"], "teams:member-add web Bad!Name").returncode == 64


def test_an_admin_is_still_told_about_unknown_users(world):
    w = world
    result = w.run("root-admin", w.fp["root-admin"], "teams:member-add web ghost")
    assert (result.returncode, result.stderr) == (65, b"!     unknown user 'ghost'\n")


def test_an_owners_writes_are_bounded_by_a_budget(world):
    w = world
    budget = os.path.join(w.state_dir, "budget", "olivia")
    first = w.run("olivia", w.fp["olivia"], "teams:member-add web bob")
    assert first.returncode == 0
    assert os.stat(budget).st_mode & 0o777 == 0o600
    with open(budget, "w") as handle:          # the bucket as a flood leaves it: empty, just now
        handle.write("0.000 %.3f\n" % time.time())
    refused = w.run("olivia", w.fp["olivia"], "teams:member-remove web bob")
    assert refused.returncode == 77 and b"too many team changes from olivia; try again in" in refused.stderr
    assert "bob" in w.store.load()["teams"]["web"]["members"]
    assert records(w)[-1]["decision"] == "deny" and "too many team changes" in records(w)[-1]["reason"]
    # reads are not counted, nor are other users' writes, nor an admin's
    assert w.run("olivia", w.fp["olivia"], "teams:team-report web").returncode == 0
    assert w.run("oscar", w.fp["oscar"], "teams:member-add ops bob").returncode == 0
    assert w.run("root-admin", w.fp["root-admin"], "teams:member-remove web bob").returncode == 0


def test_the_token_bucket_refills():
    import tempfile
    directory = tempfile.mkdtemp()
    now = 1000.0
    for unused in range(3):
        writebudget.take(directory, "olivia", now=now, burst=3, refill=2.0)
    with pytest.raises(writebudget.Denied) as caught:
        writebudget.take(directory, "olivia", now=now + 1.0, burst=3, refill=2.0)
    assert "try again in 2 s" in caught.value.message
    writebudget.take(directory, "olivia", now=now + 2.0, burst=3, refill=2.0)
    with pytest.raises(writebudget.Denied):
        writebudget.take(directory, "olivia", now=now + 2.5, burst=3, refill=2.0)
    writebudget.take(directory, "bob", now=now + 2.5, burst=3, refill=2.0)
    # a garbled file is a full bucket, never a crash; a symlink is refused
    with open(os.path.join(directory, "budget", "olivia"), "w") as handle:
        handle.write("garbage")
    writebudget.take(directory, "olivia", now=now + 3.0, burst=3, refill=2.0)
    os.symlink("/etc/passwd", os.path.join(directory, "budget", "mallory"))
    with pytest.raises(writebudget.StateError):
        writebudget.take(directory, "mallory", now=now, burst=3, refill=2.0)


FLOOD_SECONDS = 6.0
FLOODERS = 6


def test_an_owner_flooding_teams_writes_does_not_starve_other_writers(world):
    """One owner's key in FLOODERS parallel sessions toggles a member as fast as it can while
    an apps:create is recorded (a non-admin's, through the gate) and root writes through the
    store like Ansible does, several times. Every one of them must get the lock at once; the
    owner gets no more writes than the budget allows and the rest are refused with 77."""
    w = world
    # The bucket as a longer flood would leave it (this machine runs too few gates per second
    # to empty a full one within the test): 3 writes left.
    os.mkdir(os.path.join(w.state_dir, "budget"), 0o700)
    with open(os.path.join(w.state_dir, "budget", "olivia"), "w") as handle:
        handle.write("3.000 %.3f\n" % time.time())
    stop = time.monotonic() + FLOOD_SECONDS
    outcomes = []
    guard = threading.Lock()

    def flood(index):
        n = 0
        while time.monotonic() < stop:
            verb = "member-add" if n % 2 == 0 else "member-remove"
            result = w.run("olivia", w.fp["olivia"], "teams:%s web bob" % verb)
            with guard:
                outcomes.append((result.returncode, result.stderr))
            n += 1

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(FLOODERS)]
    start = time.time()
    for thread in threads:
        thread.start()
    waits = []
    created = []
    time.sleep(1.0)
    index = 0
    while time.monotonic() < stop - 0.5:
        index += 1
        before = time.monotonic()
        with Store(w.state_dir, lock_timeout=10.0).transaction() as tx:
            waits.append(time.monotonic() - before)
            tx.state = statelib.add_grants(tx.state, "ops", apps=["ansible-%d" % index])
        app = "new-%d" % index
        result = w.run("alice", w.fp["alice"], "apps:create %s" % app)
        assert result.returncode == 0, result.stderr
        created.append(app)
    for thread in threads:
        thread.join()
    elapsed = time.time() - start
    state = w.store.load()
    for app in created:         # every apps:create was recorded: its app team exists
        assert state["teams"]["dokku@app--%s" % app]["apps"] == [app]
    assert all("ansible-%d" % i in state["teams"]["ops"]["apps"] for i in range(1, index + 1))
    allowed = sum(1 for code, unused in outcomes if code == 0)
    refused = [err for code, err in outcomes if code == 77]
    assert sorted(set(code for code, unused in outcomes)) in ([0, 77], [0]), outcomes[:5]
    assert all(b"too many team changes" in err for err in refused)
    assert allowed <= 3 + elapsed / writebudget.REFILL_SECONDS + 1, (allowed, elapsed)
    assert refused, "the flood never reached the budget"
    # starved, root would wait out the flood; a loaded machine may make one write take seconds
    assert max(waits) < FLOOD_SECONDS / 2, waits
    print("flood: %d owner calls, %d allowed, %d refused in %.1f s; root's lock waits max %.3f s"
          % (len(outcomes), allowed, len(refused), elapsed, max(waits)))
    assert json.dumps(records(w))     # the audit log stayed readable JSON throughout
