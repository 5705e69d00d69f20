# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every value type of the registry: values it accepts and values it refuses (docs/VALUES.md
says what Dokku does with each)."""
from __future__ import annotations

import pytest

from module_utils import valuetypes

APP = "web"     # the command's own app (own-image, image, registry-image compare with it)
D64 = "sha256:" + "a" * 64
EXAMPLES = {
    "int": (["0", "5", "999999999"], ["", "-1", "1x", "1 2", "1234567890", "+5"]),
    "port": (["1", "80", "65535"], ["0", "65536", "x", "-1", "080000"]),
    "bool": (["true", "false"], ["yes", "1", "True", ""]),
    "size": (["512m", "1g", "100", "2G"], ["512mb", "1 g", "m", "-1m", "512m --privileged"]),
    "cpus": (["2", "1.5", "0.125"], ["all", "1.", ".5", "1.2345", "1,5"]),
    "word": (["combined", "a.b-c_d"], ["..", "a..b", "-x", "a b", "a;b", ""]),
    "proctype": (["web", "worker_2", "release-x"], ["web.1", "../x", "web x", "*", "-web", ""]),
    "proctypes": (["web", "web,worker"], ["web,", "*", "web worker", ",web"]),
    "scale": (["web=2", "worker=0"], ["web", "web=x", "../x=1", "web=2 --privileged"]),
    "domain": (["example.com", "www.example.co.uk", "*.example.com", "localhost"],
               ["Example.com", "_", "a*b.example.com", "x.com`)", "a b", ".*|e id;#", "-x.com", "x-.com"]),
    "portmap": (["http:80:5000", "https:443:5000", "grpc:50051:50051", "grpcs:443:50051"],
                ["tcp:80:80", "http:0:5000", "http:80:70000", "http:+80:5000", "http:80", "evil;x:80:5000"]),
    "portspec": (["http:80:5000", "8080"], ["0", "http:80:5000;x", "ftp:21:21"]),
    "relpath": (["sub/dir", "Dockerfile.prod", "config/nginx.conf.sigil"],
                ["/etc/passwd", "../x", "sub/../..", "-x", "a//b", "a b", "./x", ""]),
    "abspath": (["/app/storage", "/"[0:1] + "a"], ["/", "app", "/a/../b", "//a", "/a b"]),
    "ctrpath": (["/bin/sh", "/usr/bin/bash"], ["sh", "sh -c id", "/bin/../x", "/"]),
    "git-ref": (["main", "release/v2"], ["../x", "main.lock", "main x", ".hidden", "a@{1}", "-main"]),
    "url": (["https://github.com/org/repo.git", "http://example.com/x#v1", "git://example.com/r"],
            ["file:///etc/passwd", "/home/dokku/x", "https://x", "https://a b.com", "ftp://example.com/x"]),
    "buildpack": (["https://github.com/heroku/heroku-buildpack-nodejs.git", "heroku/nodejs",
                   "https://github.com/heroku/heroku-buildpack-nodejs.git#v200"],
                  ["/home/dokku/x", "file:///x", "git@github.com:a/b.git", "git://example.com/b", "a/b/c"]),
    "tag": (["v2", "latest", "1.2.3-rc_1"], ["../x", "a:b", "v2 --x", ".x", ""]),
    "tags": (["latest,stable", "v1"], ["latest stable", "a,,b", "../x", ""]),
    "image-tag": (["16.4", "16.4-bookworm"], ["latest --privileged", "../x", ""]),
    "registry-image": (["registry.example.com/team/web:1.2", "docker.io/gliderlabs/herokuish:latest-24",
                        "ghcr.io/team/web@" + D64, "registry.example.com/dokku/web:3"],
                       ["dokku/secret:latest", "docker.io/dokku/secret:1", "registry.example.com/dokku/secret:3",
                        "gliderlabs/herokuish:1", "postgres:17", "registry.example.com/team/web", "x --privileged"]),
    "own-image": (["dokku/web:v2", "dokku/web:latest"], ["dokku/secret:v2", "dokku/web", "registry.example.com/web:1"]),
    "image": (["dokku/web:v2", "registry.example.com/team/web:1.2"],
              ["dokku/secret:latest", "index.docker.io/dokku/secret:latest", "postgres:17",
               "registry.example.com/x:1 AS y"]),
    "registry-host": (["docker.io", "ghcr.io", "registry.example.com:5000", "localhost:5000", "10.0.0.1"],
                      ["user", "docker.io/x", "https://docker.io", "a b", "x.com:0"]),
    "hostport": (["5432", "127.0.0.1:15432"], ["0", "70000", "localhost:5432", "5432 -v /:/host", "*"]),
    "registry-user": (["user", "_json_key", "$oauthtoken", "jane@example.com"], ["-u", "a b", "a'b", ""]),
    "secret": (["pass", "p@ss word", "x\"y"], ["-p", " pass", "a\tb", ""]),
    "git-ident": (["Jane Doe", "ci@example.com"], ["a\"b", "-x", " x", "a;b"]),
    "storage-ref": (["data", "/var/lib/dokku/data/storage/web:/app/storage", "data:/app/data:ro"],
                    ["a b:/x", "/x:rel", "/x:/y:RO", "../x:/y"]),
    "phases": (["deploy", "build,run"], ["boot", "deploy,deploy", "deploy run"]),
    "text": (["-v", "/:/host", "--privileged", "--label=x"], ["--app", "--trace=1", "--force", "a\tb", ""]),
    "report-flag": (["--username", "--team-apps", "--user-is-global-admin"],
                    ["--app", "--trace", "--label-file", "--global", "--Username", "-u", "--", "username"]),
    "restart-policy": (["no", "always", "unless-stopped", "on-failure", "on-failure:5"],
                       ["on-failure:x", "on-failure:1 --privileged", "never"]),
    "dyno": (["web", "web.1"], ["web.x", "web /home/dokku/x", "../secret", "web.1.2"]),
    "dynos": (["web.1,worker", "web"], ["web.1;x", "web,,x"]),
    "cronid": (["5e0xq2", "a" * 300], ["../x", "A1", "a.b", ""]),
    "buildid": (["0k1a2b3c4d5e6f", "current"], ["../secret/0k1a2b3c4d5e6f", "0k1a", "0K1A2B3C4D5E6F"]),
    "cid": (["0123456789ab", "f" * 64], [".*", "0123", "0123456789aB", "g" * 12]),
    "cmdline": (["bin/server --port 5000", "npm start"], ["sh -c 'x'", "a\\b", "--entrypoint=/bin/sh", ""]),
    "nginx-size": (["10m", "100M", "16k", "1024"], ["10mb", "1m; x", "m", ""]),
    "nginx-time": (["60s", "120", "500ms", "1h"], ["60 s", "60s; x", "s", "1y"]),
    "nginx-buffers": (["8 16k", "4 32K"], ["8", "8  16k", "8 16k; x", "8 16g"]),
    "nginx-value": (["$remote_addr", "https", "443"], ["$remote_addr; alias /", "a b", "$", "${x}"]),
    "service-args": (["-c max_connections=200", "--maxmemory 2mb"], ["*", "/home/dokku/*/ENV", "$(id)", "a' b", "a  b"]),
    "custom-env": (["TZ=UTC", "TZ=UTC;POSTGRES_INITDB_ARGS=--data-checksums", "A="],
                   ["PATH", "A=1;SSH_ORIGINAL_COMMAND", "1A=x", ""]),
    "password": (["correcthorsebattery", "a.b_c~d-e"], ["short", "pw@evil.example/x", "-abcdefgh", "a b c d e f"]),
    "link-alias": (["REPORTING", "reporting", "DATABASE_URL"], ["X Y", "1DB", "A=B", "DOKKU", "GIT", "DOCKER_X"]),
    "querystring": (["sslmode=require", "?sslmode=require&pool=5"], ["a b", "*", "a'b", "?"]),
    "bucket": (["bucket-name", "bucket-name/nightly"], ["../x", "b -v /:/h", "bucket*", "b/../c", "x"]),
    "secret-token": (["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
                     ["a b", "pass*", "-x", "$(id)", ""]),
    "gpg-key-id": (["0xDEADBEEF", "deadbeefdeadbeef"], ["DEAD", "0xZZZZZZZZ", "DEADBEEF -v"]),
    "cron": (["0 3 * * *", "@daily", "*/5 * * * 1-5"], ["* * * * * root id #", "0 3 * * * root", "0 3 * * %", "@reboot"]),
    "config-key": (["NODE_ENV", "DATABASE_URL", "PORT", "GIT_REV", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"],
                   ["PATH", "BASH_ENV", "LD_PRELOAD", "DOCKER_BIN", "DOKKU_X", "IMAGE", "lowercase", "_X", "1A", "GIT_DIR",
                    "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME"]),
    "config-pair": (["NODE_ENV=production", "GREETING=hello world", "A=", "PYTHONUNBUFFERED=1"],
                    ["NOVALUE", "PATH=/x", "A=\x01", "A=x\\'; id; #", "A=x\\"]),
    "config-b64": (["CERT=aGVsbG8gd29ybGQ=", "A=", "PEM=LS0tLS1CRUdJTgpNSUk9CmVuZAo="],
                   ["CERT=not base64!", "CERT=a===", "PATH=eA==", "A=eFw=", "A=eFwnOyBpZDsgIw==", "A=AQ=="]),
    "env-pair": (["FOO=bar", "GREETING=hi"], ["A=1 --privileged", "A=\"x", "DOKKU_ROOT", "PATH=/x", "foo=bar"]),
    "cmdword": (["ls", "-la", "--noinput", "--settings=x.y", "echo \"$HOME\" && ls", "--all"],
                ["--app", "--trace", "--force", "--quiet=1", "--label=x", "--label-file=/x", "--Upper", "a\tb", ""]),
    "app": (["web", "web-api", "x.y"], ["Web", "-web", "a b", ""]),
    "checks-proctypes": (["_all_", "web", "web,worker"], ["_all_,web", "_ALL_", "*", "web worker", ""]),
    "checks-dynos": (["_all_", "web.1", "web,worker.2"], ["_all_,web", "web.x", "web.1;x", ""]),
    "dyno-n": (["web.1", "worker_2.12"], ["web", "web.0", "web.01", "web.1.2", "../x.1", "web.1x", ""]),
    "resource-key": (["web.limit.memory", "_default_.reserve.cpu", "worker.limit.nvidia-gpu"],
                     ["web.limit", "web.limits.cpu", "_x_.limit.cpu", "web.limit.memory.x", "../x.limit.cpu", ""]),
    "attachment-key": (["1.host-path", "12.volume-chown"], ["0.phases", "01.phases", "1.x", "1", "x.phases", ""]),
}


def test_every_type_has_examples():
    assert sorted(EXAMPLES) == sorted(valuetypes.TYPES)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_type(kind):
    accepted, refused = EXAMPLES[kind]
    assert accepted and refused
    for value in accepted:
        assert valuetypes.check(kind, value, APP), (kind, value)
        assert valuetypes.describe(kind) != kind
    for value in refused:
        assert not valuetypes.check(kind, value, APP), (kind, value)


def test_choice():
    assert valuetypes.check("choice:crt|key", "key")
    assert not valuetypes.check("choice:crt|key", "../key")
    assert valuetypes.known("choice:a|b") and not valuetypes.known("no-such-type")


def test_no_type_accepts_a_dokku_flag_or_a_control_byte():
    # parse_args (common/functions:493-507) acts on these wherever they stand.
    for kind in valuetypes.TYPES:
        for value in ("--app", "--trace", "--force", "--quiet", "a\nb", "a\x00b"):
            assert not valuetypes.check(kind, value, APP), (kind, value)


def test_no_type_but_a_container_word_accepts_a_backslash():
    # plugn's go-basher writes hook environments as export K=$'V' escaping only quotes
    # (basher.go:393-394), and Dokku's bash plugins export what they are given.
    for kind, (accepted, unused) in EXAMPLES.items():
        for value in accepted:
            for at in sorted({0, len(value) // 2, max(len(value) - 1, 0), len(value)}):
                changed = value[:at] + "\\" + value[at:]
                assert not valuetypes.check(kind, changed, APP) or (kind == "cmdword" and not changed.startswith("--")), \
                    (kind, changed)
    assert valuetypes.check("cmdword", "a\\.b", APP) and not valuetypes.check("cmdword", "--x=\\'", APP)


def test_reserved_config_data_is_compact():
    assert isinstance(valuetypes.reserved_keys(), frozenset) and len(valuetypes.reserved_keys()) > 400
    assert isinstance(valuetypes._RESERVED_PREFIXES, tuple)
    assert all(key.upper() == key for key in valuetypes.reserved_keys())
