# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values of datastore commands: what the official datastore plugins do with each word, and what the
gate lets through. Line numbers are dokku/dokku-postgres's; common-functions and subcommands/* are
generated and identical in dokku-redis, dokku-mysql and dokku-mongo."""
from __future__ import annotations
import copy

import pytest

from module_utils.policy import compile_view
from value_cases import DENIED, MALFORMED, OK, STATE, code_of

# backup-schedule is a literal-only host escape: a team gets it only by naming it.
STATE_LITERAL = copy.deepcopy(STATE)
STATE_LITERAL["teams"]["web"]["commands"] = ["*", "postgres:backup-schedule"]
VIEW_LITERAL = compile_view(STATE_LITERAL, "alice", ["SHA256:x"])

CF = "common-functions:"
F = "functions:"
CASES = [
    # --- create / clone / upgrade: everyday
    ("postgres:create web-db", OK, "subcommands/create:35-37 everyday"),
    ("postgres:create web-db -I 16.4", OK, F + "41,127 image tag of the official image"),
    ("postgres:create web-db --image-version 16.4-bookworm", OK, CF + "737 long form"),
    ("postgres:create web-db -m 512", OK, F + "109-112 --memory=${N}m"),
    ("postgres:create web-db -s 256m", OK, F + "114-117 --shm-size"),
    ("postgres:create web-db --config-options '-c max_connections=200'", OK, F + "127 container command line"),
    ("postgres:create web-db -C 'TZ=UTC;POSTGRES_INITDB_ARGS=--data-checksums'", OK, CF + "325-331 env-file"),
    ("postgres:create web-db -p correcthorsebattery", OK, F + "49-55 password"),
    ("postgres:clone web-db web-db-copy -i dokku/secret", DENIED, "subcommands/clone:44,47 -i as create"),
    ("postgres:clone web-db web-db-copy -N secret-net", DENIED, "subcommands/clone:47 -> functions:119-124"),
    ("postgres:upgrade web-db -I 16.4", OK, "subcommands/upgrade:32-42"),
    # --- create / clone / upgrade: hostile
    ("postgres:create web-db -i dokku/secret", DENIED, F + "34-41,127 another app's image (class 7)"),
    ("postgres:create web-db --image registry.example.com/secret", DENIED,
     "plugins/registry/functions.go:161-163 local tag of another app"),
    ("postgres:create web-db --image=postgres", DENIED, CF + "730-752 -i admin-only in every spelling"),
    ("postgres:upgrade web-db -i postgis/postgis -I 16", DENIED, "subcommands/upgrade:34-42"),
    ("postgres:create web-db -I 'latest --privileged'", MALFORMED, F + "127 image tag"),
    ("postgres:create web-db -I ../x", MALFORMED, F + "127 image tag"),
    ("postgres:create web-db -c '*'", MALFORMED, F + "127 unquoted: pathname expansion on the host"),
    ("postgres:create web-db -c '/home/dokku/*/ENV'", MALFORMED, F + "127 globs other apps' names"),
    ("postgres:create web-db -c '$(id)'", MALFORMED, F + "127"),
    ("postgres:create web-db -c \"a' b\"", MALFORMED, F + "127 quote"),
    ("postgres:create web-db -C PATH", MALFORMED, CF + "328 bare KEY copies Dokku's environment"),
    ("postgres:create web-db -C 'A=1;SSH_ORIGINAL_COMMAND'", MALFORMED, CF + "328 bare KEY"),
    ("postgres:create web-db -C '1A=x'", MALFORMED, CF + "328 key"),
    ("postgres:create web-db -m 512m", MALFORMED, F + "111 Dokku appends m"),
    ("postgres:create web-db -m '512 --privileged'", MALFORMED, F + "111"),
    ("postgres:create web-db -s '64m --cap-add=ALL'", MALFORMED, F + "116"),
    ("postgres:create web-db -p 'pw@evil.example/x'", MALFORMED, F + "240 password inside the DSN"),
    ("postgres:create web-db -p short", MALFORMED, F + "49-55 password length"),
    ("postgres:create web-db -N bridge", DENIED, F + "119-124 --network="),
    ("postgres:create web-db -P secret-net", DENIED, F + "129-135 docker network connect"),
    ("postgres:create web-db --post-start-network secret-net", DENIED, F + "139-145"),
    ("postgres:create web-db -R true", DENIED, "subcommands/upgrade:53-70 restarts linked apps"),
    ("postgres:upgrade web-db -I 16.4 -R true", DENIED, "subcommands/upgrade:53-70 other teams' linked apps"),
    ("postgres:upgrade web-db -p correcthorsebattery", DENIED, F + "49-55 ignored by upgrade"),
    ("postgres:create web-db -d otherdb", DENIED, CF + "767-768 meaning not established"),
    ("postgres:create web-db -u admin", DENIED, CF + "806-807"),
    ("postgres:create -I 16.4 web-db", DENIED, CF + "724-811 getopts after $1: option before the service"),
    ("postgres:create -i web-db", DENIED, CF + "186 creates a service named -i"),
    ("postgres:clone secret-db web-db-copy", DENIED, "not the caller's service"),
    # --- link / unlink / promote
    ("postgres:link web-db web", OK, CF + "618-664 everyday"),
    ("postgres:link web-db web -a REPORTING", OK, CF + "757-759 alias"),
    ("postgres:link web-db web --alias reporting", OK, CF + "757 upper-cased"),
    ("postgres:link web-db web -q sslmode=require", OK, CF + "655,792"),
    ("postgres:link web-db web --querystring '?sslmode=require&pool=5'", OK, CF + "792 leading ? stripped"),
    ("postgres:link web-db web --no-restart", OK, CF + "657 DOKKU_GLOBAL_FLAGS"),
    ("postgres:unlink web-db web", OK, CF + "980-1010"),
    ("postgres:linked web-db web", OK, CF + "604-616"),
    ("postgres:links web-db", OK, CF + "678-688"),
    ("postgres:app-links web", OK, CF + "245-261"),
    ("postgres:link web-db web -a 'X Y'", MALFORMED, CF + "658 alias becomes a config key"),
    ("postgres:link web-db web -a 1DB", MALFORMED, CF + "658 key must start with a letter"),
    ("postgres:link web-db web -a 'A=B'", MALFORMED, CF + "658 `=` splits the pair"),
    ("postgres:link web-db web -q 'sslmode=require x'", MALFORMED, CF + "917,935 URL re-split later"),
    ("postgres:link web-db web -q '*'", MALFORMED, CF + "935 pathname expansion"),
    ("postgres:link web-db web -q \"a'b\"", MALFORMED, CF + "141 xargs quote"),
    ("postgres:link web-db secret", DENIED, "other team's app"),
    ("postgres:link web-db web --app secret", MALFORMED,
     "plugins/common/functions:502-505 --app sets DOKKU_APP_NAME: refused anywhere (request._REFUSED)"),
    ("postgres:link web-db web extra", DENIED, "subcommands/link:49 too many positionals"),
    ("postgres:link -a X web-db web", DENIED, "subcommands/link:49 option before the positionals"),
    ("postgres:link web-db", DENIED, "subcommands/link:50 APP defaults to $DOKKU_APP_NAME"),
    ("postgres:promote web-db web", DENIED, CF + "918-935 unquoted config_set re-splits DATABASE_URL"),
    ("postgres:unlink web-db secret", DENIED, "other team's app"),
    # --- info / logs / connect / enter / export / import / list
    ("postgres:info web-db", OK, CF + "561-602 everyday"),
    ("postgres:info web-db --dsn", OK, CF + "574"),
    ("postgres:info web-db --config-options", OK, CF + "572"),
    ("postgres:info web-db --exposed-ports", OK, CF + "575"),
    ("postgres:info web-db --made-up", DENIED, CF + "594-600 unknown flag"),
    ("postgres:logs web-db", OK, CF + "705-722"),
    ("postgres:logs web-db -t", OK, CF + "713"),
    ("postgres:logs web-db --tail 100", OK, "subcommands/logs:20 TAIL_NUM is $3"),
    ("postgres:logs web-db -t '5 --since 0'", MALFORMED, CF + "712,721 unquoted --tail $N"),
    ("postgres:logs web-db -t all", MALFORMED, CF + "712 int only"),
    ("postgres:connect web-db", OK, F + "13-22"),
    ("postgres:enter web-db", OK, CF + "503-516 own service container"),
    ("postgres:enter web-db bash", OK, CF + "515 command after the container id"),
    ("postgres:export web-db", OK, F + "171-183 everyday"),
    ("postgres:import web-db", OK, F + "185-197"),
    ("postgres:list", OK, CF + "690-703 filtered list"),
    ("postgres:exists web-db", OK, CF + "518-524"),
    ("postgres:info secret-db", DENIED, "not the caller's service"),
    ("redis:info web-db", DENIED, "web-db is a postgres service"),
    ("postgres:export secret-db", DENIED, "not the caller's service"),
    ("postgres:enter secret-db", DENIED, "not the caller's service"),
    # --- expose
    ("postgres:expose web-db 5432", OK, CF + "834-866 everyday"),
    ("postgres:expose web-db", OK, CF + "842-845 random port"),
    ("postgres:expose web-db 127.0.0.1:15432", OK, CF + "91 -p HOST:PORT:5432"),
    ("postgres:unexpose web-db", OK, CF + "868-877"),
    ("postgres:expose web-db '5432 -v /:/host'", MALFORMED, CF + "836,907 unquoted docker args"),
    ("postgres:expose web-db '*'", MALFORMED, CF + "836 pathname expansion"),
    ("postgres:expose web-db 0", MALFORMED, "port range"),
    ("postgres:expose web-db 70000", MALFORMED, "port range"),
    ("postgres:expose web-db localhost:5432", MALFORMED, CF + "91 IPv4 only"),
    # --- lifecycle
    ("postgres:start web-db", OK, F + "199-233"),
    ("postgres:stop web-db", OK, "subcommands/stop"),
    ("postgres:restart web-db", OK, "subcommands/restart"),
    ("postgres:pause web-db", OK, CF + "960-978"),
    ("postgres:destroy web-db -f", OK, "subcommands/destroy:27"),
    ("postgres:destroy web-db --force", OK, "subcommands/destroy:27"),
    ("postgres:destroy web-db force", DENIED, "subcommands/destroy:27 positional spelling not typed"),
    ("postgres:destroy secret-db -f", DENIED, "not the caller's service"),
    ("postgres:set web-db initial-network bridge", DENIED, "subcommands/set:23 functions:119-124"),
    ("postgres:set web-db post-start-network secret-net", DENIED, F + "139-145"),
    ("postgres:cluster-add ssh://root@example.com", DENIED, F + "243 no such subcommand"),
    # --- backup
    ("postgres:backup web-db bucket-name", OK, CF + "263-317 everyday"),
    ("postgres:backup web-db bucket-name/nightly --use-iam", OK, CF + "278 --use-iam is $3"),
    ("postgres:backup web-db 'b -v /:/host --privileged'", MALFORMED, CF + "291,316 unquoted docker run args"),
    ("postgres:backup web-db 'b --entrypoint=sh alpine -c id'", MALFORMED, CF + "316 root on the host"),
    ("postgres:backup web-db 'bucket*'", MALFORMED, CF + "316 pathname expansion"),
    ("postgres:backup web-db ../x", MALFORMED, CF + "291 bucket"),
    ("postgres:backup web-db --use-iam bucket-name", DENIED, "subcommands/backup:19 positional order"),
    ("postgres:backup web-db bucket-name extra", DENIED, "subcommands/backup:19 too many positionals"),
    ("postgres:backup-auth web-db AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", OK,
     CF + "370-390 everyday"),
    ("postgres:backup-auth web-db AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY us-east-1 s3v4"
     " https://s3.example.com", OK, CF + "379-389 region, signature, endpoint"),
    ("postgres:backup-auth web-db 'AKIA -v /:/h' secret", MALFORMED, CF + "277 $(cat) re-split"),
    ("postgres:backup-auth web-db AKIAIOSFODNN7EXAMPLE 'x --privileged'", MALFORMED, CF + "277"),
    ("postgres:backup-auth web-db AKIAIOSFODNN7EXAMPLE s3cret 'us-east-1 -v /:/h'", MALFORMED, CF + "296"),
    ("postgres:backup-auth web-db AKIAIOSFODNN7EXAMPLE s3cret us-east-1 s3v4 'http://x -v /:/h'", MALFORMED,
     CF + "304"),
    ("postgres:backup-deauth web-db", OK, CF + "392-399"),
    ("postgres:backup-set-encryption web-db correct-horse-battery-staple", OK, CF + "430-438"),
    ("postgres:backup-set-encryption web-db 'pass -v /:/host'", MALFORMED, CF + "307-309,316 re-split"),
    ("postgres:backup-set-encryption web-db 'pass*'", MALFORMED, CF + "316 pathname expansion"),
    ("postgres:backup-set-public-key-encryption web-db 0xDEADBEEF", OK, CF + "440-448"),
    ("postgres:backup-set-public-key-encryption web-db 'DEADBEEF -v /:/h'", MALFORMED, CF + "311-313"),
    ("postgres:backup-unset-encryption web-db", OK, CF + "458-465"),
    ("postgres:backup-unset-public-key-encryption web-db", OK, CF + "467-474"),
    ("postgres:backup-schedule-cat web-db", OK, CF + "418-428"),
    ("postgres:backup-unschedule web-db", OK, CF + "450-456"),
    ("postgres:backup-schedule web-db '0 3 * * *' bucket-name", DENIED, CF + "401-416 literal-only: not granted by *"),
    ("postgres:backup secret-db bucket-name", DENIED, "not the caller's service"),
]
LITERAL_CASES = [
    ("postgres:backup-schedule web-db '0 3 * * *' bucket-name", OK, CF + "412 everyday"),
    ("postgres:backup-schedule web-db @daily bucket-name --use-iam", OK, CF + "408-412"),
    ("postgres:backup-schedule web-db '* * * * * root id #' bucket-name", MALFORMED,
     CF + "412-415 sixth field becomes the cron USER: root"),
    ("postgres:backup-schedule web-db '0 3 * * * root' bucket-name", MALFORMED, CF + "412 six fields"),
    ("postgres:backup-schedule web-db '0 3 * * %' bucket-name", MALFORMED, CF + "412 cron % is a newline"),
    ("postgres:backup-schedule web-db '0 3 * * *' 'b -v /:/h'", MALFORMED, CF + "412,316 bucket"),
    ("postgres:backup-schedule secret-db '0 3 * * *' bucket-name", DENIED, "not the caller's service"),
]


@pytest.mark.parametrize("raw,code,source", CASES, ids=[c[0][:80] for c in CASES])
def test_value(raw, code, source):
    assert code_of(raw) == code


@pytest.mark.parametrize("raw,code,source", LITERAL_CASES, ids=[c[0][:80] for c in LITERAL_CASES])
def test_value_literal_grant(raw, code, source):
    assert code_of(raw, VIEW_LITERAL) == code
