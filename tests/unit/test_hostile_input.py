# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile commands at the gate: every one gets the right exit code and one clean reason line.

The user is an ordinary member of one team that grants every command (``*``) on the apps
``web`` and ``web-api`` and the service ``postgres web-db``; another team (not theirs) holds
``secret``. So a 0 below is an allow the policy really grants; anything the grant does not
cover is 77, anything the gate cannot read is 64.
"""

from __future__ import annotations

import pytest

from module_utils import cmdline
from module_utils import evaluate as ev
from module_utils import policy
from module_utils.errors import Malformed
from value_cases import STATE, VIEW

OK, DENIED, MALFORMED = 0, 77, 64
# A value that fails its registry type: malformed for a member, trusted for an admin
# (request.invalid_reason; the gate still refuses what it cannot read for everyone).
INVALID = "invalid"

CASES = []


def case(raw, code, name=None):
    CASES.append(pytest.param(raw, code, id=name or ascii(raw)[:90]))


def _member_code(code):
    return MALFORMED if code == INVALID else code


# --- quoting ----------------------------------------------------------------------------------
case("ps:restart 'web", MALFORMED, "unterminated single")
case('ps:restart "web', MALFORMED, "unterminated double")
case("ps:restart web'", MALFORMED, "trailing single")
case('ps:restart web"', MALFORMED, "trailing double")
case("ps:restart 'web''", MALFORMED, "odd singles")
case("ps:restart '\"web'", MALFORMED, "double inside single, unbalanced in word")
case("ps:restart \"'web'\"", MALFORMED, "single inside double becomes part of the name")
case("ps:restart '\"web\"'", MALFORMED, "double inside single becomes part of the name")
case("ps:restart 'we'b", OK, "adjacent quoted parts join")
case("ps:restart 'w'\"e\"b", OK, "mixed quoted parts join")
case("'ps:restart' web", OK, "quoted command word")
case("ps:restart ''", MALFORMED, "empty app word")
case('ps:restart "" web', MALFORMED, "empty word before app")
case("'' ps:restart web", MALFORMED, "empty command word")
case("''", MALFORMED, "only an empty word")
case('""', MALFORMED, "only an empty double-quoted word")
case("'' ''", MALFORMED, "two empty words")
case("git-receive-pack ''", MALFORMED, "git empty repo")
case("git-receive-pack '/'", MALFORMED, "git slash only")
case("git-receive-pack \"'web'\"", MALFORMED, "git doubly quoted")
case("config:set web 'A=1; rm -rf /'", OK, "metacharacters literal in single quotes")
case("config:set web 'A=$(id)'", OK, "dollar literal in single quotes")
case('config:set web "A=$(id)"', MALFORMED, "dollar in double quotes")
case('config:set web "A=`id`"', MALFORMED, "backquote in double quotes")
case('config:set web "A=\\x"', MALFORMED, "backslash in double quotes")
case("config:set web A=\\'x", MALFORMED, "backslash escape outside quotes")
case("config:set web \"A='x'\"", OK, "single quotes inside double")

# --- shell metacharacters outside quotes, glued and separate ----------------------------------
for ch in ";&|$`<>(){}*?[]~#\\":
    case("ps:restart web%s" % ch, MALFORMED, "glued %r" % ch)
    case("ps:restart web %s id" % ch, MALFORMED, "separate %r" % ch)
# ... inside single quotes: literal (a config value), inside double quotes: literal except $ ` \.
# A backslash is a character no config value may hold (valuetypes: plugn's go-basher).
for ch in ";&|$`<>(){}*?[]~#\\":
    case("config:set web 'A=x%sy'" % ch, INVALID if ch == "\\" else OK, "single-quoted %r" % ch)
    case('config:set web "A=x%sy"' % ch, MALFORMED if ch in "$`\\" else OK, "double-quoted %r" % ch)

# --- backslashes that would end go-basher's $'...' quoting of a hook's environment ---------------
case("config:set web 'A=x\\'\"'\"'; id; #'", INVALID, "config value breaking out of $'...'")
case("config:set web 'A=x\\' 'B=BASH_ENV=$(id) #'", INVALID, "config value ending in a backslash")
case("config:set --encoded web A=eFwnOyBpZDsgIw==", INVALID, "encoded value with a backslash")
case("config:set --encoded web PEM=LS0tLS1CRUdJTgpNSUk9CmVuZAo=", OK, "encoded value over lines")
case("run web true '--x=\\'\"'\"'; id; #'", INVALID, "--word in DOKKU_GLOBAL_FLAGS")
case("run web grep 'a\\.b' file", OK, "backslash in a container word")
case("postgres:create db -C 'A=x\\'", INVALID, "datastore option exported by the plugin")

# --- a new app's name that could take another app's network alias (APP.PROCESS.TLD) ------------
case("apps:create other.web", INVALID, "new app with a dot")
case("apps:clone web web.staging", INVALID, "clone to a name with a dot")
case("apps:rename web web.v2", INVALID, "rename to a name with a dot")

# --- control bytes ----------------------------------------------------------------------------
for byte, label in [("\x00", "NUL"), ("\n", "LF"), ("\r", "CR"), ("\x1b", "ESC"), ("\x7f", "DEL"),
                    ("\x01", "SOH"), ("\x07", "BEL"), ("\x08", "BS"), ("\x0b", "VT"), ("\x0c", "FF"),
                    ("\x1f", "US")]:
    case("ps:restart web%s" % byte, MALFORMED, "%s at the end" % label)
    case("ps:restart%sweb" % byte, MALFORMED, "%s as a separator" % label)
    case("config:set web 'A=%s'" % byte, MALFORMED, "%s inside quotes" % label)
case("ps:restart web\nps:restart secret", MALFORMED, "second command after a newline")
case("ps:restart web\r\n", MALFORMED, "CRLF")
case("\x1b[2Jps:restart web", MALFORMED, "ANSI escape")
case("\t", MALFORMED, "tab only")
case("\t\t ", MALFORMED, "tabs and space only")
case(" ", MALFORMED, "space only")
case("", MALFORMED, "empty")
case("ps:restart\tweb", OK, "tab separates words")
case("  ps:restart \t web \t", OK, "blank runs")
case(b"ps:restart web\x00", MALFORMED, "bytes NUL")
case(b"\x00", MALFORMED, "bytes only NUL")
case(b"ps:restart web\n", MALFORMED, "bytes LF")

# --- invalid UTF-8 and overlong encodings (bytes) ---------------------------------------------
for raw, label in [
    (b"ps:restart w\xffeb", "0xff"),
    (b"ps:restart \xc0\xafweb", "overlong slash"),
    (b"ps:restart web\xc0\x80", "overlong NUL"),
    (b"ps:restart \xe0\x80\xafetc", "3-byte overlong slash"),
    (b"ps:restart web\xed\xa0\x80", "surrogate"),
    (b"ps:restart \xf8\x88\x80\x80\x80", "5-byte sequence"),
    (b"ps:restart web\xe2\x80", "truncated sequence"),
    (b"\xfe\xffps:restart web", "UTF-16 BOM bytes"),
    (b"\xef\xbb\xbfps:restart web", "UTF-8 BOM"),
    (b"ps:restart w\xd0\xb5b", "Cyrillic ie bytes"),
    (b"ps:restart web\x80", "lone continuation"),
    (b"config:set web 'A=\xc3\xa9'", "e-acute in quotes"),
]:
    case(raw, MALFORMED, label)

# --- Unicode look-alikes ----------------------------------------------------------------------
for raw, label in [
    ("ps:restart w\u0435b", "Cyrillic ie in app"),
    ("ps:restart \u0430pi", "Cyrillic a in app"),
    ("\u0430pps:list", "Cyrillic a in command"),
    ("ps\uff1arestart web", "fullwidth colon"),
    ("ps:restart we\u200db", "zero-width joiner"),
    ("ps:restart we\u200bb", "zero-width space"),
    ("ps:restart \u202eweb", "RTL override"),
    ("ps:restart\u00a0web", "no-break space"),
    ("ps:restart \uff57\uff45\uff42", "fullwidth letters"),
    ("ps:restart web\u0301", "combining accent"),
    ("\ufeffps:restart web", "BOM"),
    ("ps:restart web \u2014global", "em dash option"),
    ("ps:restart web\u2028", "line separator"),
    ("ps:restart web\u0085", "next line"),
    ("ps:restart \U0001d430eb", "mathematical w"),
    ("config:set web '\u00e9=1'", "non-ASCII in quotes"),
]:
    case(raw, MALFORMED, label)
    case(raw.encode("utf-8"), MALFORMED, label + " (bytes)")

# --- over-long input --------------------------------------------------------------------------
_BASE = "config:set web A="
case(_BASE + "x" * (4096 - len(_BASE)), OK, "exactly 4096 bytes")
case(_BASE + "x" * (4097 - len(_BASE)), MALFORMED, "4097 bytes")
case((_BASE + "x" * (4096 - len(_BASE))).encode(), OK, "exactly 4096 bytes (bytes)")
case((_BASE + "x" * (4097 - len(_BASE))).encode(), MALFORMED, "4097 bytes (bytes)")
case("ps:restart web" + " " * (4096 - 14), OK, "4096 with trailing blanks")
case("ps:restart web" + " " * (4097 - 14), MALFORMED, "4097 with trailing blanks")
case("x" * 100000, MALFORMED, "100000 bytes")
case("config:set web " + " ".join("K%d=1" % i for i in range(62)), OK, "64 words")
case("config:set web " + " ".join("K%d=1" % i for i in range(63)), MALFORMED, "65 words")
case("ps:restart " + "a" * 63, DENIED, "63-character app not granted")
case("ps:restart " + "a" * 64, MALFORMED, "64-character app")
case("'" + "a" * 4094 + "'", MALFORMED, "one long unknown command word")

# --- path tricks ------------------------------------------------------------------------------
for raw, code in [
    ("ps:restart ../web", MALFORMED), ("ps:restart /etc/passwd", MALFORMED), ("ps:restart '/web'", MALFORMED),
    ("ps:restart web/", MALFORMED), ("ps:restart ./web", MALFORMED), ("ps:restart .", MALFORMED),
    ("ps:restart ..", MALFORMED), ("ps:restart '~root'", MALFORMED), ("ps:restart web/../secret", MALFORMED),
    ("git-receive-pack '../web'", MALFORMED), ("git-receive-pack '/etc/passwd'", MALFORMED),
    ("git-receive-pack '//web'", MALFORMED), ("git-receive-pack 'web/../secret'", MALFORMED),
    ("git-receive-pack web.git", DENIED), ("git-receive-pack 'web.git'", DENIED),
    ("git-receive-pack 'secret'", DENIED), ("git-receive-pack '/secret'", DENIED),
    ("git-upload-pack '/web'", OK), ("git-receive-pack web extra", MALFORMED),
    # certs:add CRT KEY copies host files (certs/internal-functions:26-27): more words are admin-only;
    # config:import reads a host file (config/environment.go:332-343): admin-only.
    ("certs:add web /etc/ssl/private/key.pem", DENIED), ("config:import web /etc/shadow", DENIED),
    # git:from-archive/git:sync take an http(s) URL even under their literal grant (git-from-archive:16-22).
    ("storage:mount web /:/host", DENIED), ("git:from-archive web file:///etc/passwd", INVALID),
    ("git:sync web /root", INVALID), ("/usr/bin/dokku ps:restart web", MALFORMED),
    ("../../bin/sh", MALFORMED), ("/bin/sh -c id", MALFORMED), ("sh", DENIED),
]:
    case(raw, code)

# --- option injection -------------------------------------------------------------------------
for raw, code in [
    ("ps:restart web --app secret", MALFORMED), ("ps:restart --app=secret web", MALFORMED),
    ("--app=web ps:restart", MALFORMED), ("--app web --app secret ps:restart", MALFORMED),
    ("--app secret ps:restart", DENIED), ("--app web shell", MALFORMED), ("--app web", MALFORMED),
    ("--app '' ps:restart", MALFORMED), ("ps:restart --global", DENIED), ("ps:restart web --global", DENIED),
    ("config:set --global A=1", DENIED), ("-h", MALFORMED), ("ps:restart -h web", DENIED),
    ("apps:list --format=json --all", DENIED), ("apps:list --all --format json", DENIED),
    ("ps:restart -- web", MALFORMED), ("config:set web -- A=1", MALFORMED), ("--", MALFORMED),
    ("ps:restart --parallel", MALFORMED), ("logs web -n", MALFORMED), ("apps:destroy --force=yes web", MALFORMED),
    ("ps:restart --all=false web", DENIED), ("ps:restart --GLOBAL web", DENIED), ("ps:restart web --trace", MALFORMED),
    ("ps:restart web --trace=1", MALFORMED), ("ps:restart web --help=x", MALFORMED),
    ("ps:restart web -", INVALID),   # a process type starts with a letter or digit
    ("ps:restart '--a\tb' web", DENIED), ("run web ls --help", MALFORMED), ("enter web --container-id abc", INVALID),
    ("nginx:set web access-log-path /etc/shadow", DENIED), ("--trace ps:restart web", MALFORMED),
    ("dokku --trace ps:restart web", MALFORMED), ("dokku", MALFORMED), ("dokku ''", MALFORMED),
    ("dokku dokku ps:restart web", DENIED),   # 'dokku' is no command the registry knows: admin-only ("builds:prune --all-apps", DENIED),
]:
    case(raw, code)

# --- image-reference tricks -------------------------------------------------------------------
for raw, code in [
    ("docker tag dokku/web:1 dokku/secret:1", DENIED), ("docker tag dokku/secret:1 dokku/web:1", DENIED),
    ("docker tag dokku/web:1 dokku/Secret:1", MALFORMED), ("docker tag dokku/web:1 dokku/web:1 x", MALFORMED),
    ("docker-over-ssh pull 'dokku/web:1 '", MALFORMED), ("docker-over-ssh pull dokku/web:1;id", MALFORMED),
    ("docker-over-ssh pull dokku/secret:1", DENIED), ("docker-over-ssh pull dokku/web:-1", MALFORMED),
    ("git:from-image web docker.io/dokku/secret:1", INVALID), ("git:from-image web DOKKU/web:1", INVALID),
    ("git:from-image web index.docker.io/dokku/secret:1", INVALID),
    ("git:from-image web registry-1.docker.io/dokku/secret:1", INVALID),
    ("git:from-image web Docker.IO/dokku/secret:1", INVALID), ("git:from-image web dokku//secret:1", INVALID),
    ("git:from-image web dokku/secret", INVALID), ("git:from-image web dokku/web:1@sha256:abc", INVALID),
    ("git:from-image web registry.example.com/team/web:v1", OK),
    ("git:from-image web 'registry.example.com/team/web:v1 '", INVALID),
    ("git:from-image web registry..example.com/x:1", INVALID), ("git:from-image web :1", INVALID),
    ("git:from-image web registry.example.com:99999/x:1", INVALID),
    ("git:from-image web registry.example.com:0/x:1", INVALID),
    ("git:from-image web registry.example.com:5000/x:1", OK),
    ("git:from-image secret registry.example.com/x:1", DENIED),
    ("git:load-image web dokku/secret:1", INVALID), ("git:load-image web dokku/web:1", OK),
    ("docker version; id", MALFORMED), ("docker tag", MALFORMED),
]:
    case(raw, code)

# --- case tricks ------------------------------------------------------------------------------
for raw in ["WEB", "Ps:Restart web", "PS:RESTART web", "ps:restart WEB", "ps:restart Web", "Dokku ps:restart web",
            "DOCKER version", "docker VERSION", "Git-receive-pack 'web'", "git-receive-pack 'WEB'",
            "TEAMS:whoami", "teams:Whoami", "ps:restart web-API", "Postgres:info web-db",
            "postgres:info Web-db", "Docker-over-ssh pull dokku/web:1", "docker TAG dokku/web:1 dokku/web:2",
            "--APP web ps:restart"]:
    case(raw, MALFORMED)


def _texts(raw):
    """The same command as bytes and as str (undecodable bytes keep their identity as surrogates)."""
    if isinstance(raw, bytes):
        return raw, raw.decode("utf-8", "surrogateescape")
    return raw.encode("utf-8", "surrogatepass"), raw


def _assert_clean_reason(reason, raw_text):
    assert isinstance(reason, str) and reason
    assert all(0x20 <= ord(c) < 0x7F for c in reason), ascii(reason)
    has_control = any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw_text)
    if has_control or any(ord(c) > 0x7E for c in raw_text):
        assert raw_text.strip() == "" or raw_text not in reason


def test_there_are_enough_cases():
    assert len(CASES) >= 150


@pytest.mark.parametrize("raw,code", CASES)
def test_hostile_command(raw, code):
    raw_bytes, raw_text = _texts(raw)
    code = _member_code(code)
    for form in (raw_bytes, raw_text):
        decision = ev.evaluate(VIEW, form)
        assert decision.code == code, decision.reason
        _assert_clean_reason(decision.reason, raw_text)
        if code != OK:
            assert decision.argv is None
        else:
            assert decision.team == "web"
            assert all(0x20 <= ord(c) < 0x7F for word in decision.argv for c in word)


@pytest.mark.parametrize("raw,code", CASES)
def test_split_command_bytes_and_str_agree(raw, code):
    raw_bytes, raw_text = _texts(raw)
    outcomes = []
    for form in (raw_bytes, raw_text):
        try:
            outcomes.append(("words", cmdline.split_command(form)))
        except Malformed as error:
            _assert_clean_reason(error.message, raw_text)
            outcomes.append(("malformed", None))
    assert outcomes[0] == outcomes[1]
    if outcomes[0][0] == "words":
        words = outcomes[0][1]
        assert len(words) <= cmdline.MAX_WORDS
        assert all(0x20 <= ord(c) < 0x7F or c == "\t" for word in words for c in word)


@pytest.mark.parametrize("raw,code", CASES)
def test_admin_never_gets_past_a_malformed_command(raw, code):
    admin = policy.compile_view(STATE, "root", [])
    decision = ev.evaluate(admin, raw)
    if code == INVALID:
        # the gate reads it; only the value's type fails, and admins are trusted with values
        assert decision.code == OK and ev.evaluate(VIEW, raw).request.invalid_reason
    elif code == MALFORMED:
        assert decision.code == MALFORMED
    else:
        assert decision.code in (OK, MALFORMED) and decision.code != DENIED


@pytest.mark.parametrize("value", [None, 12, ["ps:restart", "web"], bytearray(b"ps:restart web")])
def test_split_command_refuses_other_types(value):
    with pytest.raises(Malformed):
        cmdline.split_command(value)


def test_quote_word_round_trips_hostile_words():
    for word in ["", "a b", "it's", '"', "$(id)", "a\tb", ";", "--app", "'"]:
        assert cmdline.split_command(cmdline.quote_word(word)) == [word]
