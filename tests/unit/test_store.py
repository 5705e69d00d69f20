# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time

import pytest

from module_utils import fsutil, policy, state as st, store
from module_utils.errors import EX_DENIED, EX_STATE, StateError

from keyutil import ed25519_line

PLUGINS = os.path.dirname(os.path.dirname(os.path.abspath(store.__file__)))
OTHER_UID = 4242

# A writer process: loops over transactions, each adding user <prefix><i> with a key derived
# from the name and making them a member of team "t". argv: plugins state_dir prefix start count
WRITER = r"""
import base64, hashlib, struct, sys
sys.path.insert(0, sys.argv[1])
from module_utils import state, store
s = store.Store(sys.argv[2], lock_timeout=120)
prefix, start, count = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def key(name):
    material = hashlib.sha256(name.encode()).digest()
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + material
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + " " + name

sys.stdout.write("ready\n")
sys.stdout.flush()
i = start
while count < 0 or i < start + count:
    name = "%s%d" % (prefix, i)
    with s.transaction() as tx:
        tx.state = state.add_user(tx.state, name, [key(name)])
        tx.state = state.add_members(tx.state, "t", [name], "member")
    i += 1
"""


def writer(state_dir, prefix, start, count):
    return subprocess.Popen([sys.executable, "-c", WRITER, PLUGINS, str(state_dir), prefix, str(start), str(count)],
                            stdout=subprocess.PIPE, text=True)


@pytest.fixture
def sdir(tmp_path):
    return str(tmp_path / "state")


@pytest.fixture
def store_(sdir):
    s = store.Store(sdir)
    assert s.init() is True
    return s


def keys(*names):
    return {name: ed25519_line(name) for name in names}


def populated(s):
    k = keys("alice", "bob", "carol", "olivia")
    with s.transaction() as tx:
        for name, line in k.items():
            tx.state = st.add_user(tx.state, name, [line])
        tx.state = st.set_team(tx.state, "web", owners=["olivia"], members=["alice", "bob"], commands=["git-*"],
                               apps=["web"])
        tx.state = st.set_team(tx.state, "ops", members=["carol"], commands=["ps:*"], apps=["*"])
    assert tx.changed
    return k


def view_inodes(s):
    return {name: os.stat(os.path.join(s.views_dir, name)).st_ino for name in os.listdir(s.views_dir)}


# ---- basics


def test_init_layout_and_idempotence(store_, sdir):
    assert stat.S_IMODE(os.stat(sdir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(sdir, "views")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(sdir, "state.json")).st_mode) == 0o600
    assert sorted(os.listdir(sdir)) == ["state.json", "state.lock", "state.seal", "views"]
    assert os.listdir(os.path.join(sdir, "views")) == [".serial"]
    assert store_.load() == st.empty_state()
    assert store_.exists()
    assert store_.init() is False
    assert store_.load()["serial"] == 0
    assert store_.doctor() == []


def test_transaction_writes_state_and_views(store_, sdir):
    k = populated(store_)
    loaded = store_.load()
    assert loaded["serial"] == 1
    assert loaded["teams"]["web"]["members"] == ["alice", "bob"]
    assert json.loads(open(os.path.join(sdir, "state.json")).read()) == loaded
    assert open(os.path.join(sdir, "views", ".serial")).read() == "1\n"
    for user in k:
        view = store.read_view(sdir, user)
        assert view == policy.compile_view(loaded, user, st.fingerprints(loaded, user))
        mode = os.stat(os.path.join(sdir, "views", user + ".json")).st_mode
        assert stat.S_IMODE(mode) == 0o600
    assert store.read_view(sdir, "alice")["teams"][0]["apps"] == ["web"]
    assert store.read_view(sdir, "carol")["teams"][0]["all_apps"] is True
    assert store.read_view(sdir, "olivia")["owns"] == ["web"]
    assert store_.doctor() == []
    assert store.VIEW_VERSION == policy.VIEW_VERSION


def test_no_change_writes_nothing(store_):
    populated(store_)
    before = os.stat(store_.state_path).st_ino
    inodes = view_inodes(store_)
    with store_.transaction() as tx:
        tx.state = st.add_members(tx.state, "web", ["alice"])  # already a member
    assert tx.changed is False
    assert store_.save(store_.load()) is False
    assert os.stat(store_.state_path).st_ino == before
    assert view_inodes(store_) == inodes
    assert store_.load()["serial"] == 1


def test_exception_aborts_and_releases_lock(store_):
    populated(store_)
    with pytest.raises(RuntimeError):
        with store_.transaction() as tx:
            tx.state = st.destroy_team(tx.state, "web")
            raise RuntimeError("stop")
    assert "web" in store_.load()["teams"]
    with store_.transaction() as tx:  # the lock was released
        tx.state = st.destroy_team(tx.state, "web")
    assert "web" not in store_.load()["teams"]


def test_invalid_state_in_transaction_is_refused(store_):
    populated(store_)
    from module_utils.errors import Invalid
    with pytest.raises(Invalid, match="unknown user"):
        with store_.transaction() as tx:
            tx.state["teams"]["web"]["members"].append("mallory")
    assert store_.load()["serial"] == 1


def test_save_and_import(store_):
    doc = {"version": 1, "users": {"a": {"keys": [ed25519_line("a")]}}, "teams": {"x": {"members": ["a"]}}}
    assert store_.save(st.import_document(doc)) is True
    assert store_.load()["serial"] == 1
    assert st.export(store_.load())["teams"]["x"]["members"] == ["a"]


def test_lock_timeout(store_, sdir):
    slow = store.Store(sdir, lock_timeout=0.2)
    with fsutil.lock(os.path.join(sdir, "state.lock")):
        with pytest.raises(StateError, match="timed out waiting for the state lock") as info:
            with slow.transaction():
                pass
    assert info.value.code == EX_STATE


# ---- views


def test_only_changed_views_are_rewritten(store_, sdir):
    populated(store_)
    inodes = view_inodes(store_)
    mtimes = {n: os.stat(os.path.join(store_.views_dir, n)).st_mtime_ns for n in inodes}
    with store_.transaction() as tx:
        tx.state = st.add_grants(tx.state, "web", commands=["ps:*"])
    after = view_inodes(store_)
    changed = {name for name in inodes if inodes[name] != after[name]}
    # alice and bob are members of web; olivia only owns it (her view does not hold grants); carol: other team
    assert changed == {"alice.json", "bob.json", ".serial"}
    for name in ("carol.json", "olivia.json"):
        assert os.stat(os.path.join(store_.views_dir, name)).st_mtime_ns == mtimes[name]
    assert "ps:*" in store.read_view(sdir, "alice")["teams"][0]["commands"]
    # a key change rewrites only that user's view
    inodes = view_inodes(store_)
    with store_.transaction() as tx:
        tx.state = st.add_key(tx.state, "carol", ed25519_line("carol2"))
    after = view_inodes(store_)
    assert {name for name in inodes if inodes[name] != after[name]} == {"carol.json", ".serial"}
    assert len(store.read_view(sdir, "carol")["fingerprints"]) == 2
    assert store_.doctor() == []


def test_removed_users_view_is_deleted(store_, sdir):
    populated(store_)
    with store_.transaction() as tx:
        tx.state = st.remove_user(tx.state, "bob")
    assert not os.path.exists(os.path.join(sdir, "views", "bob.json"))
    with pytest.raises(store.UnknownUser) as info:
        store.read_view(sdir, "bob")
    assert info.value.code == EX_DENIED
    assert store_.doctor() == []


def test_read_view_errors(store_, sdir):
    populated(store_)
    with pytest.raises(store.UnknownUser, match="unknown user nobody"):
        store.read_view(sdir, "nobody")
    with pytest.raises(store.UnknownUser):
        store.read_view(sdir, "../state")
    path = os.path.join(sdir, "views", "alice.json")
    good = open(path, "rb").read()
    for content, message in ((b"{", "not valid JSON"), (b"[]", "not a JSON object"),
                             (good.replace(b'"version":1', b'"version":2'), "unsupported version 2"),
                             (good.replace(b'"user":"alice"', b'"user":"bob"'), "belongs to 'bob', not alice")):
        fsutil.atomic_write(path, content)
        with pytest.raises(StateError, match=message) as info:
            store.read_view(sdir, "alice")
        assert info.value.code == EX_STATE
        assert any("alice" in problem for problem in store_.doctor())
    fsutil.atomic_write(path, good, mode=0o666)
    with pytest.raises(StateError, match="group- or world-writable"):
        store.read_view(sdir, "alice")
    assert any("view of user alice" in p and "writable" in p for p in store_.doctor())
    os.chmod(path, 0o600)
    os.chown(path, OTHER_UID, -1)
    with pytest.raises(StateError, match="owned by uid %d" % OTHER_UID):
        store.read_view(sdir, "alice")
    assert any("view of user alice" in p and "owned by uid" in p for p in store_.doctor())
    store_.repair_views()
    assert store.read_view(sdir, "alice")["user"] == "alice"
    assert store_.doctor() == []
    # a missing views directory is a state problem (75), not an unknown user (77)
    os.rename(store_.views_dir, store_.views_dir + ".off")
    with pytest.raises(StateError, match="directory .* is missing") as info:
        store.read_view(sdir, "alice")
    assert not isinstance(info.value, store.UnknownUser)


def test_doctor_finds_view_problems(store_, sdir):
    populated(store_)
    os.unlink(os.path.join(sdir, "views", "bob.json"))
    fsutil.atomic_write(os.path.join(sdir, "views", "ghost.json"), b"{}")
    open(os.path.join(sdir, "views", ".alice.json.tmp-00ff"), "w").close()
    fsutil.atomic_write(os.path.join(sdir, "views", ".serial"), b"0\n")
    problems = "\n".join(store_.doctor())
    assert "view of user bob is missing" in problems
    assert "ghost.json belongs to no user" in problems
    assert "leftover temporary file" in problems
    assert "views are out of date" in problems and "serial 0" in problems
    with store_.transaction():
        pass  # a writer that finds stale views rewrites them all
    assert store_.doctor() == []
    assert sorted(os.listdir(store_.views_dir)) == [".serial", "alice.json", "bob.json", "carol.json", "olivia.json"]


def test_stale_serial_rewrites_every_view(store_):
    populated(store_)
    inodes = view_inodes(store_)
    fsutil.atomic_write(store_.serial_path, b"0\n")
    with store_.transaction() as tx:
        tx.state = st.add_grants(tx.state, "ops", commands=["logs"])
    after = view_inodes(store_)
    assert all(inodes[name] != after[name] for name in inodes if name != ".serial")
    assert open(store_.serial_path).read() == "2\n"
    assert store_.doctor() == []


# ---- untrusted state


def _corrupt(s, how):
    path = s.state_path
    good = open(path, "rb").read()
    if how == "corrupt":
        fsutil.atomic_write(path, b"{not json")
        return "not valid JSON"
    if how == "truncated":
        fsutil.atomic_write(path, good[:len(good) // 2])
        return "not valid JSON"
    if how == "empty":
        fsutil.atomic_write(path, b"")
        return "not valid JSON"
    assert b'"serial":1,' in good and b'"version":1}' in good
    if how == "duplicate-key":
        fsutil.atomic_write(path, good.replace(b'"serial":1,', b'"serial":9,"serial":1,', 1))
        return "duplicate key"
    if how == "nan":
        fsutil.atomic_write(path, good.replace(b'"serial":1,', b'"serial":NaN,', 1))
        return "not valid JSON"
    if how == "symlink":
        os.rename(path, path + ".real")
        os.symlink("state.json.real", path)
        return "is a symlink"
    if how == "group-writable":
        os.chmod(path, 0o620)
        return "group- or world-writable"
    if how == "world-writable":
        os.chmod(path, 0o606)
        return "group- or world-writable"
    if how == "dir-writable":
        os.chmod(s.state_dir, 0o777)
        return "group- or world-writable"
    if how == "wrong-version":
        fsutil.atomic_write(path, good.replace(b'"version":1}', b'"version":2}'))
        return "unsupported version 2"
    if how == "wrong-owner":
        os.chown(path, OTHER_UID, -1)
        return "owned by uid %d, not uid 0" % OTHER_UID
    if how == "invalid-content":
        fsutil.atomic_write(path, good.replace(b'"alice"', b'"Alice"'))
        return "invalid"
    if how == "missing":
        os.unlink(path)
        return "is missing"
    if how == "directory":
        os.unlink(path)
        os.mkdir(path)
        return "not a regular file"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["corrupt", "truncated", "empty", "duplicate-key", "nan", "symlink", "group-writable",
                                 "world-writable", "dir-writable", "wrong-version", "wrong-owner", "invalid-content",
                                 "missing", "directory"])
def test_untrusted_state_fails_closed(store_, how):
    populated(store_)
    assert os.geteuid() == 0, "the suite runs as root (as CI does)"
    message = _corrupt(store_, how)
    with pytest.raises(StateError, match=message) as info:
        store_.load()
    assert info.value.code == EX_STATE
    problems = store_.doctor()
    assert problems and any(message in p for p in problems), problems
    with pytest.raises(StateError):
        with store_.transaction():
            pass


def test_wrong_owner_simulated_by_owner_uid(store_, sdir):
    populated(store_)
    other = store.Store(sdir, owner_uid=OTHER_UID)
    with pytest.raises(StateError, match="owned by uid 0, not uid %d" % OTHER_UID):
        other.load()
    assert "owned by uid 0" in other.doctor()[0]
    with pytest.raises(StateError, match="owned by uid 0"):
        store.read_view(sdir, "alice", owner_uid=OTHER_UID)


def test_store_for_another_owner_chowns(tmp_path):
    d = str(tmp_path / "other")
    s = store.Store(d, owner_uid=OTHER_UID)
    s.init()
    populated(s)
    for path in (d, s.state_path, s.views_dir, s.serial_path, os.path.join(s.views_dir, "alice.json")):
        assert os.stat(path).st_uid == OTHER_UID, path
    assert s.doctor() == []
    assert store.read_view(d, "alice", owner_uid=OTHER_UID)["user"] == "alice"


# ---- crashes and concurrency


def _check_prefix(loaded, base_serial, prefix):
    """The state after any number of whole transactions of WRITER, never a part of one."""
    users = sorted(int(name[len(prefix):]) for name in loaded["users"] if name.startswith(prefix))
    count = len(users)
    assert users == list(range(count))
    members = sorted(int(n[len(prefix):]) for n in loaded["teams"]["t"]["members"] if n.startswith(prefix))
    assert members == users
    assert loaded["serial"] == base_serial + count
    return count


def test_sigkill_at_random_moments_leaves_old_or_new(store_, sdir):
    with store_.transaction() as tx:
        tx.state = st.create_team(tx.state, "t")
    base_serial = store_.load()["serial"]
    rng = random.Random(1234)
    done = 0
    stale_seen = 0
    trials = 100
    for trial in range(trials):
        proc = writer(sdir, "w", done, -1)
        assert proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        loaded = store_.load()  # never an error
        count = _check_prefix(loaded, base_serial, "w")
        assert count >= done  # never older than a committed state
        done = count
        problems = store_.doctor()
        for problem in problems:
            assert ("views are out of date" in problem or "is out of date" in problem or "is missing" in problem
                    or "leftover temporary file" in problem or "belongs to no user" in problem), problem
        if problems:
            stale_seen += 1
            with store_.transaction() as tx:
                pass  # the next transaction repairs
            assert store_.doctor() == []
            assert store_.load() == loaded
        if trial % 20 == 0 and done:
            view = store.read_view(sdir, "w%d" % (done - 1))
            assert view["member_of"] == ["t"]
    assert done > 0
    assert stale_seen > 0  # some kills landed between state.json and views/.serial (about a third do)
    print("trials %d, transactions committed %d, kills that left views stale %d" % (trials, done, stale_seen))


def test_concurrent_writers_lose_nothing(store_, sdir):
    with store_.transaction() as tx:
        tx.state = st.create_team(tx.state, "t")
    procs = [writer(sdir, "p%d-" % i, 0, 50) for i in range(20)]
    for proc in procs:
        assert proc.stdout.readline() == "ready\n"
    for proc in procs:
        assert proc.wait(timeout=300) == 0
        proc.stdout.close()
    loaded = store_.load()
    assert loaded["serial"] == 1 + 1000
    for i in range(20):
        names = {"p%d-%d" % (i, j) for j in range(50)}
        assert names <= set(loaded["users"])
        assert names <= set(loaded["teams"]["t"]["members"])
    assert len(loaded["users"]) == 1000 and len(loaded["teams"]["t"]["members"]) == 1000
    assert store_.doctor() == []


def test_incremental_views_match_a_full_compilation(store_, sdir):
    """Random changes through transactions: after each, every view file is exactly what
    policy.compile_view makes from the whole state, and no other view file exists."""
    rng = random.Random(99)
    people = ["u%d" % i for i in range(8)]
    with store_.transaction() as tx:
        for name in people:
            tx.state = st.add_user(tx.state, name, [ed25519_line(name)])
        for team in ("a", "b", "c"):
            tx.state = st.set_team(tx.state, team, owners=[people[0]], members=people[:3], apps=["x"])
    for step in range(80):
        with store_.transaction() as tx:
            s = tx.state
            team = rng.choice(["a", "b", "c"])
            user = rng.choice(people)
            action = rng.randrange(9)
            if user not in s["users"]:
                s = st.add_user(s, user, [ed25519_line(user)])
            elif action == 0:
                s = st.add_members(s, team, [user], rng.choice(["member", "owner"]))
            elif action == 1 and s["teams"][team]["members"]:
                s = st.remove_members(s, team, [rng.choice(s["teams"][team]["members"])], "member")
            elif action == 2:
                s = st.add_grants(s, team, commands=[rng.choice(["ps:*", "logs", "git-*"])],
                                  apps=[rng.choice(["x", "y", "*"])])
            elif action == 3:
                s = st.remove_grants(s, team, commands=["ps:*"], apps=["x"])
            elif action == 4:
                s = st.add_key(s, user, ed25519_line(user + "-%d" % step))
            elif action == 5 and user != people[0]:
                s = st.remove_user(s, user)
            elif action == 6:
                s = st.add_members(s, "dokku@admin", [user]) if rng.random() < 0.5 else \
                    st.remove_members(s, "dokku@admin", [user])
            elif action == 7:
                s = st.rename_app(s, "x", "y") if "x" in s["teams"][team]["apps"] else st.clone_app(s, "y", "x")
            else:
                s = st.set_team(s, team, members=[p for p in people if p in s["users"] and rng.random() < 0.5])
            tx.state = s
        current = store_.load()
        files = sorted(name for name in os.listdir(store_.views_dir) if name != ".serial")
        assert files == sorted(user + ".json" for user in current["users"])
        for user in current["users"]:
            expected = policy.compile_view(current, user, st.fingerprints(current, user))
            assert store.read_view(sdir, user) == expected, (step, user)
    assert store_.doctor() == []


# --- the seal: the gate's cheap proof that state.json is the file the writers wrote -----------

def _sealed_store(tmp_path):
    s = store.Store(str(tmp_path / "sealed"))
    s.init()
    with s.transaction() as tx:
        tx.state = st.add_user(tx.state, "alice", [ed25519_line("alice")])
    return s


def _check(s):
    store.check_seal(s.state_dir, os.lstat(s.state_path))


def test_every_write_leaves_the_state_sealed(tmp_path):
    s = _sealed_store(tmp_path)
    _check(s)
    with open(s.seal_path) as handle:
        assert handle.read().count("\n") == 1       # after the views: only the new identity
    with s.transaction() as tx:
        tx.state = st.create_team(tx.state, "web")
    _check(s)
    assert s.doctor() == []


def test_a_state_changed_behind_the_writers_breaks_the_seal_and_doctor_says_so(tmp_path):
    s = _sealed_store(tmp_path)
    os.truncate(s.state_path, 10)
    with pytest.raises(StateError):
        _check(s)
    assert any("state.seal does not vouch" in problem for problem in s.doctor())
    with pytest.raises(StateError):     # a corrupt state is not resealed by a writer either
        with s.transaction():
            pass


def test_a_writer_resealing_between_the_gates_stat_and_its_seal_read_is_no_tamper(tmp_path, monkeypatch):
    # the gate stats state.json, a writer commits (new file, seal for it alone), the gate reads
    # the seal: the file it stat'd is gone, so it looks again instead of refusing everyone
    s = _sealed_store(tmp_path)
    real, calls = store.check_seal, []

    def racing(state_dir, info, owner_uid=None):
        if not calls:
            calls.append(store.identity(info))
            monkeypatch.setattr(store, "check_seal", real)      # the writer checks with the real one
            with s.transaction() as tx:
                tx.state = st.create_team(tx.state, "race")
            monkeypatch.setattr(store, "check_seal", racing)
        else:
            calls.append(store.identity(info))
        return real(state_dir, info, owner_uid)
    monkeypatch.setattr(store, "check_seal", racing)
    store.check_sealed(s.state_dir)
    assert len(calls) == 2 and calls[0] != calls[1]
    # a file changed outside dokku-teams stays unsealed however often it is looked at
    monkeypatch.setattr(store, "check_seal", real)
    os.truncate(s.state_path, 10)
    with pytest.raises(StateError, match="does not match its seal"):
        store.check_sealed(s.state_dir)


def test_a_valid_state_is_resealed_by_the_next_writer(tmp_path):
    s = _sealed_store(tmp_path)
    os.unlink(s.seal_path)
    assert not s.seal_matches()
    with s.transaction():
        pass
    _check(s)
    assert s.doctor() == []


def test_the_seal_vouches_for_old_and_new_while_the_state_is_renamed(tmp_path):
    s = _sealed_store(tmp_path)
    old = os.lstat(s.state_path)
    seen = []
    real_write = s._write_seal

    def spy(identities, sync=False):
        real_write(identities, sync)
        if len(identities) == 2:
            # the new file is not in place yet, and the gate still accepts the old one
            store.check_seal(s.state_dir, os.lstat(s.state_path))
            seen.append(identities)
    s._write_seal = spy
    with s.transaction() as tx:
        tx.state = st.create_team(tx.state, "ops")
    assert seen and seen[0][0] == store.identity(old)
    assert seen[0][1] == store.identity(os.lstat(s.state_path))
