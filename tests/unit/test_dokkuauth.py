# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user-auth triggers (``dokkuauth``): the gate's answers at Dokku's own door.

Dokku's handling of an SSH command before the trigger runs (its own split, ``parse_args``, the
leading-flag shift) is the lab stand-in's (``tests/lab/dokku.py``), which reproduces it from
Dokku's source; the split of non-git commands is the real ``xargs -n 1``, as in Dokku.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

import test_hostile_input as hostile
from gate_helpers import World, key_fp
from module_utils import cmdline, dokkuauth, dokkukeys
from module_utils import evaluate as ev
from module_utils import policy
from module_utils.errors import Malformed

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab"))
import dokku as standin  # noqa: E402  (the lab's Dokku stand-in)

OK, DENIED, MALFORMED = 0, 77, 64
ALICE = hostile.VIEW
ADMIN = policy.compile_view(hostile.STATE, "root", [])


def through_dokku(words, env=None):
    """What Dokku hands ``user-auth`` for a command already split into ``words``:
    (Context, the words after the leading flags). A leading ``dokku`` is the gate's program
    name, not a word Dokku would see."""
    env = dict(env or {})
    if words[:1] == ["dokku"] and env == {}:
        words = words[1:]
    standin.parse_args_env(list(words), env)
    live = standin.shift_leading_flags(list(words))
    return dokkuauth.Context("dokku", "alice", "SHA256:x", env.get("DOKKU_APP_NAME", ""),
                             env.get("DOKKU_TRACE", ""), env.get("DOKKU_GLOBAL_FLAGS", ""), live[:1] and live[0]), live


def over_ssh(raw):
    """The same for ``ssh dokku@host RAW``: sshcommand's forced command splits RAW on blanks
    (``$SSH_ORIGINAL_COMMAND`` unquoted), ``dokku`` scans those words, then re-runs itself on
    its own split of RAW (dokku:107-123) and scans again."""
    env = {}
    outer = [w for w in raw.replace("\t", " ").replace("\n", " ").split(" ") if w]
    standin.parse_args_env(outer, env)
    words = standin.ssh_words(raw, standin.shift_leading_flags(outer))
    return through_dokku(words, env)


def trigger(view, context, words):
    return dokkuauth.decide(view, words, context)


# --- the gate's hostile suite, at Dokku's door ---------------------------------------------------

def _split_cases():
    out = []
    for param in hostile.CASES:
        raw, code = param.values
        try:
            words = cmdline.split_command(raw)
        except Malformed:
            continue   # the gate refuses the raw text; Dokku's door gets words, tested below
        if words[:1] in (["git-receive-pack"], ["git-upload-pack"]) and "'" in "".join(words[1:]):
            continue   # Dokku strips the repository's quotes itself: DOOR_CASES test those
        out.append(pytest.param(raw, words, code, id=param.id))
    return out


SPLIT_CASES = _split_cases()


def test_enough_hostile_cases_reach_words():
    assert len(SPLIT_CASES) >= 60


@pytest.mark.parametrize("raw,words,code", SPLIT_CASES)
def test_same_answer_as_the_gate_for_the_same_words(raw, words, code):
    gate = ev.evaluate(ALICE, raw)
    context, live = through_dokku(words)
    door = trigger(ALICE, context, live)
    assert (door.code, door.allowed) == (gate.code, gate.allowed), (door.reason, gate.reason)
    if gate.allowed:
        assert door.team == gate.team


@pytest.mark.parametrize("raw,words,code", SPLIT_CASES)
def test_admin_same_answer_as_the_gate(raw, words, code):
    gate = ev.evaluate(ADMIN, raw)
    context, live = through_dokku(words)
    assert trigger(ADMIN, context, live).code == gate.code


# --- what only Dokku's door sees ------------------------------------------------------------------

DOOR_CASES = [
    # Dokku's own split and parse_args, over SSH
    ("ps:restart web", OK),
    ("ps:restart secret", DENIED),
    ("ps:restart nosuchapp", DENIED),
    ("--app web ps:restart", OK),
    ("--app secret ps:restart", DENIED),
    ("--app secret ps:restart web", DENIED),
    ("ps:restart web --app secret", MALFORMED),
    ("ps:restart --app secret web", MALFORMED),
    ("--app=secret ps:restart web", MALFORMED),
    ("--trace ps:restart web", MALFORMED),
    ("ps:restart web --trace", MALFORMED),
    ("--quiet ps:restart web", MALFORMED),
    ("--force apps:destroy secret", MALFORMED),
    ("--label-file=/etc/shadow run web ls", MALFORMED),
    ("--version --app ps:restart web", MALFORMED),
    ("--app web --app secret ps:restart", MALFORMED),
    # quotes: the outer shell split does not honour them, Dokku's xargs split does
    ('ps:restart web "x --app secret"', MALFORMED),
    ("ps:restart web 'x --trace'", MALFORMED),
    ("ps:restart web '--trace'", MALFORMED),
    ("'--app' secret ps:restart web", DENIED),
    ('"ps:restart secret"', MALFORMED),
    ("ps:restart 'secret'", DENIED),
    ('config:set web "A=b --app secret"', MALFORMED),
    ("config:set web 'A=1 B=2'", OK),
    ("config:set web A=1\\ --global", MALFORMED),
    ("ps:restart web\\ secret", MALFORMED),
    ("ps:restart we\\b", OK),
    ("ps:restart web -n", OK),
    # git: Dokku splits on blanks and strips the quotes itself
    ("git-receive-pack 'web'", OK),
    ("git-receive-pack '/web'", OK),
    ("git-upload-pack 'web'", OK),
    ("git-receive-pack 'secret'", DENIED),
    ("git-receive-pack '//secret'", MALFORMED),
    ("git-receive-pack 'web' 'secret'", MALFORMED),
    ("git-receive-pack 'web secret'", MALFORMED),
    ("git-receive-pack \\'secret", MALFORMED),
    ("git-receive-pack '--app' secret", MALFORMED),
    ("git-hook web", OK),
    ("git-hook secret", DENIED),
    ("git-upload-archive 'secret'", DENIED),
    ("digit-x secret", DENIED),
    # not Dokku's command
    ("dokku ps:restart web", DENIED),
    ("ssh-keys:add evil", DENIED),
    ("apps:list", OK),
]


@pytest.mark.parametrize("raw,code", DOOR_CASES, ids=[raw for raw, unused in DOOR_CASES])
def test_dokku_door_over_ssh(raw, code):
    context, live = over_ssh(raw)
    decision = trigger(ALICE, context, live)
    assert decision.code == code, decision.reason
    if code == DENIED and "secret" in raw:
        # never says whether another team's app exists
        assert decision.reason in ("App secret does not exist",) or "secret" not in decision.reason


def test_refused_foreign_app_answer_is_the_missing_app_answer():
    exists = trigger(ALICE, *over_ssh("ps:restart secret"))
    missing = trigger(ALICE, *over_ssh("ps:restart nosuch"))
    assert exists.reason == "App secret does not exist"
    assert missing.reason == "App nosuch does not exist"
    assert exists.code == missing.code == DENIED


def test_an_allowed_door_decision_touches_only_granted_apps():
    for raw, code in DOOR_CASES:
        context, live = over_ssh(raw)
        decision = trigger(ALICE, context, live)
        if decision.allowed:
            assert set(decision.request.apps) <= {"web", "web-api"}, raw
            assert not context.trace


def test_dokku_trace_from_the_environment_is_refused():
    context = dokkuauth.Context("dokku", "alice", "SHA256:x", trace="1", command="ps:restart")
    assert trigger(ALICE, context, ["ps:restart", "web"]).code == MALFORMED
    assert trigger(ADMIN, context, ["ps:restart", "web"]).code == MALFORMED


def test_app_name_is_put_back_in_front():
    context = dokkuauth.Context("dokku", "alice", "SHA256:x", app="secret", flags="--app")
    assert dokkuauth.gate_words(["ps:restart"], context) == ["--app", "secret", "ps:restart"]
    assert trigger(ALICE, context, ["ps:restart"]).reason == "App secret does not exist"


def test_unaccounted_global_flags_are_put_back_in_front():
    context = dokkuauth.Context("dokku", "alice", "SHA256:x", flags="--label=x --tail")
    assert dokkuauth.gate_words(["logs", "web", "--tail"], context) == ["--label=x", "logs", "web", "--tail"]
    # flags that do not end with the words' own: Dokku's two splits disagreed
    context = dokkuauth.Context("dokku", "alice", "SHA256:x", flags="--tail --label=x")
    assert dokkuauth.gate_words(["logs", "web", "--tail"], context)[:2] == ["--tail", "--label=x"]
    assert trigger(ALICE, context, ["logs", "web", "--tail"]).code == MALFORMED


def test_control_characters_in_words_are_refused():
    context = dokkuauth.Context("dokku", "alice", "SHA256:x")
    for words in (["ps:restart", "web\nsecret"], ["ps:restart", "w\u0435b"], ["ps:restart\x00", "web"]):
        assert trigger(ALICE, context, words).code == MALFORMED
    context = dokkuauth.Context("dokku", "alice", "SHA256:x", app="web\n")
    assert trigger(ALICE, context, ["ps:restart"]).code == MALFORMED


def test_dokku_unquote_is_dokkus():
    assert dokkuauth.dokku_unquote("'web'") == "web"
    assert dokkuauth.dokku_unquote("'/web'") == "web"
    assert dokkuauth.dokku_unquote("'//web'") == "/web"
    assert dokkuauth.dokku_unquote("\\'web") == "'web"
    for word in ("'web'", "'/web'", "\\'web", "we'b", "'web.git'"):
        assert dokkuauth.dokku_unquote(word) == standin.strip_repo_arg(word) or word.endswith(".git'")


@pytest.mark.parametrize("user,name,fingerprint,restricted", [
    ("root", "default", "", False),          # root at the console
    ("dokku", "default", "", False),         # the dokku user's own jobs (cron)
    ("dokku", "alice", "SHA256:x", True),    # a dokku@ user (sshcommand's NAME and FINGERPRINT)
    ("", "alice", "SHA256:x", True),         # the gate's target
    ("dokku", "default", "SHA256:x", True),  # an ssh-keys user named default
    ("root", "alice", "", True),             # root asking as alice
])
def test_who_is_restricted(user, name, fingerprint, restricted):
    assert dokkuauth.Context(user, name, fingerprint).restricted is restricted


# --- listings -----------------------------------------------------------------------------------

def test_app_listing_shows_what_the_gate_shows():
    apps = ["other", "secret", "web", "web-api"]
    listing = dokkuauth.Context("dokku", "alice", "SHA256:x", command="apps:list")
    assert dokkuauth.visible_apps(ALICE, apps, listing) == ["web", "web-api"]
    check = dokkuauth.Context("dokku", "alice", "SHA256:x", command="ps:restart")
    assert dokkuauth.visible_apps(ALICE, ["secret"], check) == []
    assert dokkuauth.visible_apps(ALICE, ["web"], check) == ["web"]
    assert dokkuauth.visible_apps(ADMIN, apps, listing) == apps


def test_app_listing_without_a_grant_shows_nothing():
    state = {"version": 1, "users": {}, "teams": {
        "deploy": {"owners": [], "members": ["carol"], "commands": ["git-receive-pack"], "apps": ["web"],
                   "services": []}}}
    carol = policy.compile_view(state, "carol", [])
    listing = dokkuauth.Context("dokku", "carol", "SHA256:x", command="apps:list")
    assert dokkuauth.visible_apps(carol, ["web", "secret"], listing) == []
    check = dokkuauth.Context("dokku", "carol", "SHA256:x", command="git-hook")
    assert dokkuauth.visible_apps(carol, ["web", "secret"], check) == ["web"]


def test_service_listing():
    listing = dokkuauth.Context("dokku", "alice", "SHA256:x", command="postgres:list")
    assert dokkuauth.visible_services(ALICE, "postgres", ["other-db", "web-db"], listing) == ["web-db"]
    check = dokkuauth.Context("dokku", "alice", "SHA256:x", command="postgres:info")
    assert dokkuauth.visible_services(ALICE, "postgres", ["other-db", "web-db"], check) == ["web-db"]
    assert dokkuauth.visible_services(ALICE, "redis", ["web-db"], check) == []
    assert dokkuauth.visible_services(ADMIN, "postgres", ["other-db"], listing) == ["other-db"]


# --- the root program ---------------------------------------------------------------------------

@pytest.fixture
def world():
    w = World(apps=("web", "secret"))
    fp = w.add_user("alice")
    w.add_user("bob")
    w.add_user("root-admin")
    w.admin("root-admin")
    w.team("web", members=["alice"], commands=["ps:*", "apps:list", "teams:*"], apps=["web"])
    w.team("other", members=["bob"], commands=["*"], apps=["secret"])
    w.alice_fp = fp
    yield w
    w.cleanup()


def call(world, capfd, action, ssh_name, args, fingerprint=None, **options):
    argv = [action, "--config=%s" % world.config]
    if fingerprint is not None:
        argv.append("--fingerprint=%s" % fingerprint)
    argv += ["--%s=%s" % (name, value) for name, value in options.items()]
    argv += ["--", "dokku", ssh_name] + list(args)
    code = dokkuauth.run(argv)
    out, err = capfd.readouterr()
    return code, out, err


def test_program_allows_and_refuses(world, capfd):
    assert call(world, capfd, "user-auth", "alice", ["ps:restart", "web"], world.alice_fp)[0] == 0
    code, out, err = call(world, capfd, "user-auth", "alice", ["ps:restart", "secret"], world.alice_fp)
    assert (code, out, err) == (DENIED, "", "!     App secret does not exist\n")
    code, unused, err = call(world, capfd, "user-auth", "alice", ["--trace"], world.alice_fp,
                             trace="1", flags="--trace")
    assert code == MALFORMED and "--trace" in err
    records = world.audit_records()
    assert [(r["user"], r["decision"], r.get("door")) for r in records] == [
        ("alice", "allow", "dokku"), ("alice", "deny", "dokku"), ("alice", "malformed", "dokku")]


def test_program_lists(world, capfd):
    code, out, unused = call(world, capfd, "user-auth-app", "alice", ["secret", "web"], world.alice_fp,
                             command="apps:list")
    assert (code, out) == (0, "web\n")
    code, out, unused = call(world, capfd, "user-auth-app", "root-admin", ["secret", "web"],
                             key_fp("root-admin"), command="apps:list")
    assert (code, out) == (0, "secret\nweb\n")


def test_root_at_the_console_needs_no_state(world, capfd):
    argv = ["user-auth", "--config=/nonexistent/gate.conf", "--", "root", "default", "storage:exec", "x"]
    assert dokkuauth.run(argv) == 0
    argv = ["user-auth-app", "--config=/nonexistent/gate.conf", "--", "root", "default", "a", "b"]
    assert dokkuauth.run(argv) == 0
    assert capfd.readouterr().out == "a\nb\n"


def test_unusable_state_refuses(world, capfd):
    with open(os.path.join(world.state_dir, "state.json"), "ab") as handle:
        handle.write(b" ")
    code, out, err = call(world, capfd, "user-auth", "alice", ["ps:restart", "web"], world.alice_fp)
    assert (code, err) == (75, "!     %s\n" % dokkuauth.GENERIC)
    code, out, unused = call(world, capfd, "user-auth-app", "alice", ["web"], world.alice_fp, command="apps:list")
    assert (code, out) == (0, "")


def test_unknown_user_and_revoked_key(world, capfd):
    code, unused, err = call(world, capfd, "user-auth", "mallory", ["ps:restart", "web"], "SHA256:m")
    assert (code, err) == (DENIED, "!     App web does not exist\n")
    code, unused, err = call(world, capfd, "user-auth", "alice", ["ps:restart", "web"], key_fp("bob"))
    assert (code, err) == (DENIED, "!     %s\n" % dokkuauth.REVOKED)


def test_teams_verbs_run_as_the_caller(world, capfd):
    code, out, unused = call(world, capfd, "teams", "alice", ["teams:whoami", "--username"], world.alice_fp)
    assert (code, out.split()) == (0, ["alice"])
    code, out, unused = call(world, capfd, "teams", "alice", ["teams:whoami", "--format", "json"], world.alice_fp,
                             flags="--format")
    assert code == 0 and "alice" in out
    code, out, unused = call(world, capfd, "teams", "alice", ["teams:list"], world.alice_fp)
    assert code == 0 and "other" not in out
    code, unused, err = call(world, capfd, "teams", "alice", ["teams:create", "x"], world.alice_fp)
    assert code == DENIED and "restricted to admins" in err
    assert "x" not in world.store.load()["teams"]


@pytest.mark.parametrize("argv", [[], ["nope"], ["user-auth"], ["user-auth", "--", "root"],
                                  ["user-auth", "--bogus=1", "--", "a", "b"], ["user-auth", "--app", "--", "a", "b"]])
def test_bad_arguments(argv):
    with pytest.raises(Malformed):
        dokkuauth.parse_argv(argv)


# --- enabling, and Dokku's ssh-keys ---------------------------------------------------------------

def _sshcommand_line(name, key, home):
    # what sshcommand acl-add appends (dokku/sshcommand sshcommand:201), built independently
    fp = dokkukeys.parse_key(key).fingerprint
    return ('command="FINGERPRINT=%s NAME=\\"%s\\" `cat %s/.sshcommand` $SSH_ORIGINAL_COMMAND",'
            'no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding %s' % (fp, name, home, key))


def test_enable_adopts_ssh_keys_users_once_and_sync_keeps_foreign_lines(world, capfd):
    from gate_helpers import make_key
    os.makedirs(os.path.join(world.home, ".ssh"))
    path = os.path.join(world.home, ".ssh", "authorized_keys")
    dave, erin, alice = make_key("dave")[0], make_key("erin")[0], make_key("alice")[0]
    with open(path, "w") as handle:
        handle.write("# a comment\n" + _sshcommand_line("dave", dave, world.home) + "\n"
                     + _sshcommand_line("alice", alice, world.home) + "\n"
                     + "ssh-ed25519 AAAAnotaline\n")
    assert dokkuauth.run(["enable", "--config=%s" % world.config]) == 0
    assert capfd.readouterr().out == "Adopted as admins: dave\n"
    state = world.store.load()
    assert "dave" in state["teams"]["dokku@admin"]["members"]
    assert "alice" not in state["teams"]["dokku@admin"]["members"]
    assert state["users"]["dave"]["keys"] == [dokkukeys.parse_key(dave).line]
    with open(path, "a") as handle:
        handle.write(_sshcommand_line("erin", erin, world.home) + "\n")
    assert dokkuauth.run(["enable", "--config=%s" % world.config]) == 0
    assert capfd.readouterr().out == "Nothing to adopt\n"
    assert "erin" not in world.store.load()["users"]
    assert dokkuauth.run(["adopted", "--config=%s" % world.config]) == 0
    assert json.loads(capfd.readouterr().out) == [{"name": "dave", "keys": [dokkukeys.parse_key(dave).line]}]
    # sync: every state user's keys, erin's hand-made line kept, the junk line kept
    assert dokkuauth.run(["sync-keys", "--config=%s" % world.config]) == 0
    assert capfd.readouterr().out == "Changed\n"
    users = dokkukeys.read_users(path)
    assert set(users) == {"alice", "bob", "root-admin", "dave", "erin"}
    with open(path) as handle:
        text = handle.read()
    assert "ssh-ed25519 AAAAnotaline\n" in text and _sshcommand_line("erin", erin, world.home) in text
    assert _sshcommand_line("bob", make_key("bob")[0], world.home) + "\n" in text
    assert dokkuauth.run(["sync-keys", "--config=%s" % world.config]) == 0
    assert capfd.readouterr().out == "Unchanged\n"
    # a user's from list stays an sshd restriction at dokku@ too
    world.change(dokkukeys.statelib.set_user_from, "alice", ["10.0.0.0/8"])
    dokkuauth.run(["sync-keys", "--config=%s" % world.config])
    capfd.readouterr()
    with open(path) as handle:
        alice_line = [line for line in handle if 'NAME=\\"alice\\"' in line]
    assert alice_line and ',from="10.0.0.0/8" ssh-ed25519 ' in alice_line[0]
    assert dokkukeys.read_users(path)["alice"] == [dokkukeys.parse_key(alice).line]
    # a removed user's lines go
    world.change(dokkukeys.statelib.remove_user, "bob")
    dokkuauth.run(["sync-keys", "--config=%s" % world.config])
    assert "bob" not in dokkukeys.read_users(path)


def test_parse_line_refuses_what_is_not_sshcommands():
    from gate_helpers import make_key
    key = make_key("x")[0]
    assert dokkukeys.parse_line(_sshcommand_line("x", key, "/home/dokku")) == ("x", dokkukeys.parse_key(key).line)
    for line in (key, 'command="other" ' + key, "", 'command="FINGERPRINT=a NAME=\\"x\\" y",opts junk'):
        assert dokkukeys.parse_line(line) is None


# --- the whole chain without a lab: sshcommand's forced command, the stand-in, the role's trigger --

STANDIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab", "dokku.py")
AUTH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "bin", "dokku-teams-auth")
TRIGGER = os.path.join(os.path.dirname(STANDIN), "..", "..", "roles", "dokku_teams", "templates",
                       "dokku-users-trigger.j2")


@pytest.fixture
def chain(world, tmp_path):
    """A stand-in root with apps web and secret and the teams plugin's three triggers, the
    role's template rendered with a sudo that only adds the world's config."""
    import jinja2
    root = tmp_path / "standin"
    for app in ("web", "secret"):
        (root / "apps" / app).mkdir(parents=True)
    plugin = root / "plugins" / "enabled" / "teams"
    plugin.mkdir(parents=True)
    sudo = tmp_path / "sudo"
    sudo.write_text('#!/bin/sh\nshift\nprog=$1; action=$2; shift 2\nexec "$prog" "$action" "--config=%s" "$@"\n'
                    % world.config)
    sudo.chmod(0o755)
    with open(TRIGGER) as handle:
        template = jinja2.Template(handle.read())
    for name in ("user-auth", "user-auth-app", "user-auth-service"):
        (plugin / name).write_text(template.render(ansible_managed="test", __dokku_teams_trigger=name,
                                                   __dokku_teams_sudo=str(sudo), __dokku_teams_auth=AUTH))
        (plugin / name).chmod(0o755)
    return root


def ssh_dokku(root, name, fingerprint, raw):
    """sshcommand's forced command (sshcommand:201), run by a shell as sshd does."""
    command = 'FINGERPRINT=%s NAME="%s" /usr/bin/python3 %s $SSH_ORIGINAL_COMMAND' % (fingerprint, name, STANDIN)
    env = {"PATH": "/usr/bin:/bin", "DOKKU_STANDIN_ROOT": str(root), "HOME": str(root), "USER": "dokku",
           "LC_ALL": "C.UTF-8", "SSH_ORIGINAL_COMMAND": raw}
    import subprocess
    return subprocess.run(["/bin/bash", "-c", command], env=env, cwd=str(root), capture_output=True, text=True,
                          timeout=120, check=False)


def test_chain_over_the_forced_command(world, chain):
    ok = ssh_dokku(chain, "alice", world.alice_fp, "ps:restart web")
    assert ok.returncode == 0 and "stand-in: ps:restart web" in ok.stdout, ok.stderr
    refused = ssh_dokku(chain, "alice", world.alice_fp, "ps:restart secret")
    assert refused.returncode == 1 and "stand-in" not in refused.stdout
    assert "App secret does not exist" in refused.stderr and "Access denied" in refused.stderr
    listing = ssh_dokku(chain, "alice", world.alice_fp, "apps:list")
    assert listing.stdout == "=====> My Apps\nweb\n", listing.stderr
    admin = ssh_dokku(chain, "root-admin", key_fp("root-admin"), "apps:list")
    assert admin.stdout == "=====> My Apps\nsecret\nweb\n", admin.stderr
    for raw in ('ps:restart web "x --app secret"', "--app secret ps:restart", "ps:restart web --trace",
                "'--app' secret ps:restart web", "ps:restart secre?", "ps:restart web\\ secret"):
        r = ssh_dokku(chain, "alice", world.alice_fp, raw)
        assert r.returncode != 0 and "stand-in" not in r.stdout, (raw, r.stdout, r.stderr)


def test_a_command_the_gate_decided_is_not_decided_again(world, chain):
    """The gate exports DOKKU_TEAMS_GATE=1 to what it runs: the user-auth trigger then lets the
    command pass without a second decision or audit line. A dokku@ client cannot set it: the
    variable is not one sshd accepts, and sshcommand passes the command as arguments."""
    import subprocess
    before = len(world.audit_records())
    env = {"PATH": "/usr/bin:/bin", "DOKKU_STANDIN_ROOT": str(chain), "HOME": str(chain), "USER": "dokku",
           "LC_ALL": "C.UTF-8", "NAME": "alice", "FINGERPRINT": world.alice_fp, "DOKKU_TEAMS_GATE": "1"}
    ran = subprocess.run(["/usr/bin/python3", STANDIN, "ps:restart", "web"], env=env, cwd=str(chain),
                         capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0 and "stand-in: ps:restart web" in ran.stdout, ran.stderr
    assert len(world.audit_records()) == before
    smuggled = ssh_dokku(chain, "alice", world.alice_fp, "DOKKU_TEAMS_GATE=1 ps:restart secret")
    assert smuggled.returncode != 0 and "stand-in" not in smuggled.stdout
    assert len(world.audit_records()) == before + 1
