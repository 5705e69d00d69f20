# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry's rows (format: ``commands.py``). Data only, but for the builder-* plugins' rows,
which one function writes (the plugins are one template).

Every option, positional word and property a non-admin may pass is typed here, and the comment
beside it names the Dokku source that shows what Dokku does with it (``dokku/dokku`` paths, Dokku
0.38; datastore verbs from ``dokku/dokku-postgres``, whose code the official datastore plugins
share). What could not be established is left out, and so is admin-only. Every row a non-admin
may run carries its own ``file:LINE`` citation on its lines, none leans on a neighbour's
(``tests/unit/test_registry.py`` checks it).
"""


def _builder_rows(builder, prop, kind, cited):
    """A builder plugin's ``:set`` row for its one property and its ``:report`` row."""
    fields = sorted((prop, "computed-" + prop, "global-" + prop))
    flags = " ".join("--%s-%s" % (builder, field) for field in fields)
    return ("%s:set app prop:%s=%s   # %s\n"
            "%s:report app --format=choice:stdout|json %s\n"
            "    # %s/report.go:8-26\n") % (builder, prop, kind, cited, builder, flags, builder)


# openresty-vhosts has these nginx settings of nginx-vhosts under the same names, and its values
# are nginx's too: both rows type them with these words (each row cites its own plugin).
_NGINX_PROPS = """\
                           prop:client-max-body-size=nginx-size prop:client-body-timeout=nginx-time
                           prop:client-header-timeout=nginx-time prop:keepalive-timeout=nginx-time
                           prop:lingering-timeout=nginx-time prop:send-timeout=nginx-time
                           prop:proxy-connect-timeout=nginx-time prop:proxy-read-timeout=nginx-time
                           prop:proxy-send-timeout=nginx-time prop:proxy-buffer-size=nginx-size
                           prop:proxy-busy-buffers-size=nginx-size prop:proxy-buffers=nginx-buffers
"""

ROWS = """
version                none                    # dokku:281-283
help                   none                    # dokku:230-279 (help --all: ADMIN_OPTIONS)
# ---- apps (plugins/apps) ----
apps:list              applist do:listing --format=choice:stdout|json   # apps/src/subcommands/subcommands.go:45-49
apps:create            new do:record           # apps/src/subcommands/subcommands.go:29-33
apps:destroy           app --force             # apps/subcommands.go:84-94 (--force skips the typed confirmation)
apps:exists            app                     # apps/src/subcommands/subcommands.go:40-44
apps:lock              app                     # apps/src/subcommands/subcommands.go:50-54
apps:locked            app                     # apps/subcommands.go:150-161 (the app's own lock file)
apps:unlock            app                     # apps/subcommands.go:257-274 (removes the app's own lock file)
apps:rename            app,new do:record --skip-deploy   # apps/subcommands.go:164-183
apps:clone             app,new do:record --skip-deploy   # apps/subcommands.go:13-43; --ignore-existing exits 0 without creating (:30-34): admin
apps:report            app --format=choice:stdout|json --app-created-at --app-deploy-source
                           --app-deploy-source-metadata --app-dir --app-global-disable-autocreation
                           --app-locked   # apps/report.go:24-31
apps:set               admin                   # apps/apps.go:4-15: deploy-source metadata and global-only keys, nothing a team needs
# ---- config: every key is exported into Dokku's host shell (builder-*/builder-build eval config_export) ----
config                 app --merged --shell --export      # config/src/commands/commands.go:40-52
config:show            app --merged
    # config/functions.go:160-181; --merged: the global env (config.go:171-184), which its containers get (docker-args-deploy:15)
config:keys            app --merged            # config/functions.go:124-130 (--merged: config.go:171-184)
config:bundle          app --merged            # config/functions.go:45-48 tar of the env on stdout (--merged: config.go:171-184)
config:export          app --merged   # config/functions.go:18-33 (a closed map of formats)
                       --format=choice:exports|envfile|docker-args|docker-args-keys|json|json-list|pack-keys|pretty|shell
config:get             app --quoted @word      # config/functions.go:61-83 read-only lookup, one key
config:set             app --no-restart --encoded when:--encoded=config-b64 @config-pair+
                       # config/functions.go:133-157 (--encoded anywhere decodes every value)
config:unset           app --no-restart @config-key+   # config/config.go:72-105
config:clear           app --no-restart        # config/config.go:108-132 (own app)
config:import          admin                   # keys on stdin bypass config-key; a FILE reads a host path (config/environment.go:332-343)
# ---- ps ----
ps:inspect             app                     # scheduler-docker-local/scheduler-inspect:26
ps:rebuild             app --parallel=int      # ps/subcommands.go:29-39
ps:restart             app --parallel=int @proctype?   # scheduler-deploy:33 glob (common/functions:551-566)
ps:start               app --parallel=int      # ps/subcommands.go:195-205 (--parallel is read only with --all, :196-198)
ps:stop                app --parallel=int      # ps/subcommands.go:208-218 (--parallel is read only with --all, :209-211)
ps:scale               app --skip-deploy --format=choice:stdout|json @scale*   # ps/functions.go:143-168
ps:set                 app prop:restart-policy=restart-policy prop:restore=bool prop:stop-timeout-seconds=int
                           prop:skip-deploy=bool prop:procfile-path=relpath
                           prop:start-cmd=cmdline prop:dockerfile-start-cmd=cmdline
    # restart-policy: ps/triggers.go:57 re-split; stop-timeout-seconds: scheduler-stop:10,25 unquoted;
    # procfile-path: common/common.go:292-301 Join on the host; start-cmd: scheduler-deploy-process-container:66-72
ps:report              app --format=choice:stdout|json --deployed --processes --restore --running
                           --ps-can-scale --ps-computed-dockerfile-start-cmd --ps-computed-procfile-path
                           --ps-computed-restart-policy --ps-computed-skip-deploy --ps-computed-start-cmd
                           --ps-computed-stop-timeout-seconds --ps-dockerfile-start-cmd
                           --ps-global-procfile-path --ps-global-restart-policy --ps-global-skip-deploy
                           --ps-global-stop-timeout-seconds --ps-procfile-path --ps-restart-policy
                           --ps-skip-deploy --ps-start-cmd --ps-stop-timeout-seconds --status-*=dyno-n
    # ps/report.go:32-53; --status-TYPE.N: one per CONTAINER.TYPE.N file of the app (:81-111)
ps:restore             admin                   # ps/subcommands.go:84-91 host-wide pre-restore trigger
ps:retire              admin                   # ps/subcommands.go:148-152 every app's run containers
# ---- run / enter ----
run                    app opts-stop -e|--env=env-pair --no-tty --ttl-seconds=int @cmdword*
    # run/internal-functions:6-105; env: scheduler-run:87-89 xargs; --cron-id/--concurrency-policy: admin (scheduler-run:62-69)
run:detached           app opts-stop -e|--env=env-pair --force-tty --ttl-seconds=int @cmdword*   # run/internal-functions:116-124
run:list               app --format=choice:stdout|json --quiet   # run/internal-functions:126-162 (last positional wins: one only)
run:logs               app -t|--tail -n|--num=int -q|--quiet     # scheduler-run-logs:32-50 bash -c with $NUM; --container admin
run:retire             app                     # run/internal-functions:229-242
run:stop               app                     # run/internal-functions:244-274; --container not checked (scheduler-run-stop:36-56)
enter                  app opts-stop --container-id=cid @dyno? @cmdword*   # scheduler-enter:68-105; common/functions:551-566 glob
# ---- logs ----
logs                   app -t|--tail -n|--num=int -q|--quiet -p|--ps=proctype   # logs/src/commands/commands.go:40-57; scheduler-logs:22-23
logs:failed            app                     # logs/src/subcommands/subcommands.go:21-26
logs:set               app prop:max-size=size  # logs/triggers.go:58-66 docker args; vector-* sinks: admin (logs/functions.go:517)
logs:report            app --logs-app-label-alias --logs-computed-app-label-alias
                           --logs-global-app-label-alias --logs-max-size --logs-computed-max-size
                           --logs-global-max-size --logs-computed-vector-image --logs-global-vector-image
                           --logs-computed-vector-networks --logs-global-vector-networks
    # logs/report.go:37-54 (values the stdout report prints too); json and the exact *-sink
    # flags print a sink unredacted (:156-178): admin
logs:vector-logs       admin                   # the shared vector container (host-wide)
logs:vector-start      admin
logs:vector-stop       admin
# ---- checks ----
checks:disable         app @checks-proctypes?   # checks/subcommands/disable:10-44 unquoted for-loop; _all_ :14,18
checks:enable          app @checks-proctypes?
    # checks/subcommands/enable:13-42 IFS=, unquoted loop, ${list//$value/} (common/functions:864-871);
    # _all_ (the default, :14,19) clears both lists
checks:skip            app @checks-proctypes?   # checks/subcommands/skip:13-43 as enable; _all_ :14,18
checks:run             app @checks-dynos?       # checks/subcommands/run:77-103; _all_ :84,87
checks:set             app prop:wait-to-retire=int   # scheduler-docker-local/internal-functions:250-262 $((...))
checks:report          app --format=choice:stdout|json --checks-disabled-list --checks-skipped-list
                           --checks-computed-wait-to-retire --checks-global-wait-to-retire
                           --checks-wait-to-retire   # checks/report.go:22-28
# ---- resource ----
resource:limit         app --process-type=proctype --cpu=cpus --memory=size --memory-swap=size
    # resource/resource.go:77-79 property path; resource/triggers.go:73-88 docker args; --nvidia-gpu/--network*: admin
resource:limit-clear   app --process-type=proctype
    # resource/subcommands.go:19-26; functions.go:26-62 (type joined into property names, :58)
resource:reserve       app --process-type=proctype --cpu=cpus --memory=size --memory-swap=size
    # resource/subcommands.go:51-58; functions.go:64-122; memory only reaches docker (triggers.go:82-88)
resource:reserve-clear app --process-type=proctype   # resource/subcommands.go:60-67; functions.go:26-62
resource:report        app --format=choice:stdout|json --resource-*=resource-key
    # resource/resource.go:28-37 one flag per property of the app, TYPE.limit|reserve.KEY (:77-79)
# ---- cron ----
cron:list              app --format=choice:stdout|json   # cron/src/subcommands/subcommands.go:21-30
cron:report            app --format=choice:stdout|json --cron-computed-mailfrom --cron-computed-mailto
                           --cron-computed-maintenance --cron-global-mailfrom --cron-global-mailto
                           --cron-global-maintenance --cron-maintenance --cron-task-count
                           --cron-maintenance-*=cronid
    # cron/report.go:30-39; --cron-maintenance-ID: one per suspended task of the app (:66-82)
cron:run               app --detach --ttl-seconds=int @cronid   # cron/subcommands.go:101-160 (own tasks)
cron:suspend           app @cronid             # cron/subcommands.go:214-216; common/properties.go:790-793
cron:resume            app @cronid             # cron/subcommands.go:96-98,164-196 (the id must be one of the app's tasks)
cron:set               app prop:maintenance=bool   # cron/cron.go:28-40; mailfrom/mailto global only
# ---- builds ----
builds:list            app --format=choice:stdout|json --kind=choice:build|deploy
                           --status=choice:running|succeeded|failed|canceled|abandoned   # builds/subcommands.go:40-58
builds:info            app --format=choice:stdout|json @buildid   # builds/builds.go:224-231 Join
builds:output          app @buildid?           # builds/builds.go:229-231 (journalctl fallback: docs/VALUES.md)
builds:cancel          app                     # builds/subcommands.go:277-300
builds:prune           app                     # builds/subcommands.go:415-438
builds:set             app prop:retention=int  # builds/set.go:10-44
builds:report          app --format=choice:stdout|json --build-id --build-kind --build-status
                           --build-pid --build-source --build-started-at --build-finished-at
                           --build-exit-code --builds-retention --builds-global-retention
                           --builds-computed-retention   # builds/report.go:24-36 (the app's last build)
# ---- scheduler ----
scheduler:set          app prop:shell=ctrpath  # scheduler-run:143-152 one argv element; selected: admin (k3s)
scheduler:report       app --format=choice:stdout|json --scheduler-computed-selected
                           --scheduler-global-selected --scheduler-selected --scheduler-computed-shell
                           --scheduler-global-shell --scheduler-shell   # scheduler/report.go:24-31
scheduler-docker-local:set app prop:init-process=bool prop:parallel-schedule-count=int   # scheduler-docker-local/subcommands/set:11-27
scheduler-docker-local:report app --format=choice:stdout|json
                           --scheduler-docker-local-computed-init-process
                           --scheduler-docker-local-computed-parallel-schedule-count
                           --scheduler-docker-local-global-init-process
                           --scheduler-docker-local-global-parallel-schedule-count
                           --scheduler-docker-local-init-process
                           --scheduler-docker-local-parallel-schedule-count
    # scheduler-docker-local/report.go:24-31
# ---- url, cleanup, repo ----
url                    app                     # 00_dokku-standard/subcommands/url:9-12 (domains-urls trigger, read-only)
urls                   app                     # 00_dokku-standard/subcommands/urls:9-12
cleanup                app                     # common/docker.go:390-435 (no app = every app)
repo:gc                app                     # repo/subcommands.go:7-14
repo:purge-cache       app                     # repo/subcommands.go:16-20
# ---- git (plugins/git) ----
git:from-image         app --force @image @git-ident? @git-ident?
    # git-from-image:25-45 FROM line, pull skipped when local; --build-dir (rsync of a host dir, :16-23): admin
git:load-image         app do:spool @own-image @git-ident? @git-ident?   # internal-functions:143-187; --build-dir admin
git:initialize         app                     # subcommands/initialize:7-11
git:status             app                     # internal-functions:331-340
git:report             app --format=choice:stdout|json
                           --git-computed-archive-max-files --git-computed-archive-max-size
                           --git-computed-deploy-branch --git-computed-keep-git-dir --git-deploy-branch
                           --git-global-archive-max-files --git-global-archive-max-size
                           --git-global-deploy-branch --git-global-keep-git-dir --git-keep-git-dir
                           --git-last-updated-at --git-rev-env-var --git-sha --git-source-image   # report.go:31-47
git:set                app prop:deploy-branch=git-ref prop:keep-git-dir=bool prop:rev-env-var=config-key
    # deploy-branch: functions:119-120 refs/heads/$BRANCH read; rev-env-var: functions:108-114 config_set;
    # source-image (files copied from it, common/common.go:259-263) and archive-* (global only): admin
git:sync               app literal --build --build-if-changes --skip-deploy-branch @url @git-ref?
    # internal-functions:238-313,375-429 git clone as dokku with the host's .netrc
git:from-archive       app literal --archive-type=choice:tar|tar.gz|zip @url @git-ident? @git-ident?   # git-from-archive:16-22 curl
git:allow-host         admin                   # host known_hosts (internal-functions:8-17)
git:auth               admin                   # host .netrc (internal-functions:74-98)
git:auth-status        admin                   # probes the host .netrc (internal-functions:107-130)
git:generate-deploy-key admin                  # host deploy key (internal-functions:61-72)
git:public-key         admin                   # host deploy key (internal-functions:315-329)
# ---- builder ----
builder:set            app prop:build-dir=relpath prop:skip-cleanup=bool
                           prop:selected=choice:dockerfile|herokuish|lambda|nixpacks|null|pack|railpack
    # build-dir: builder/triggers.go:70-100 Join + Copy; selected: builder/triggers.go:13-26
builder:report         app --format=choice:stdout|json
                           --builder-build-dir --builder-computed-build-dir --builder-computed-selected
                           --builder-computed-skip-cleanup --builder-detected --builder-global-build-dir
                           --builder-global-selected --builder-global-skip-cleanup --builder-selected
                           --builder-skip-cleanup   # builder/report.go:23-35
"""

# The builder-* plugins are one template (each plugin's report.go:8-26): one property, reported
# as set, computed and global. Their rows differ only in the property, its type and citation.
ROWS += "".join(_builder_rows(builder, prop, kind, cited) for builder, prop, kind, cited in (
    ("builder-dockerfile", "dockerfile-path", "relpath", "builder-dockerfile/core-post-extract:11-28 mv"),
    ("builder-herokuish", "allowed", "bool", "builder-herokuish/builder-herokuish-allowed:11"),
    ("builder-lambda", "lambdayml-path", "relpath", "builder-lambda/core-post-extract:11-26 mv"),
    ("builder-nixpacks", "nixpackstoml-path", "relpath", "builder-nixpacks/core-post-extract:11-26 mv"),
    ("builder-pack", "projecttoml-path", "relpath", "builder-pack/core-post-extract:11-26 mv"),
    ("builder-railpack", "railpackjson-path", "relpath", "builder-railpack/core-post-extract:11-26 mv"),
))

ROWS += """
# ---- buildpacks ----
buildpacks:add         app --index=int @buildpack   # buildpacks/functions.go:90-110; builder-pack/builder-build:285-302
buildpacks:clear       app                     # buildpacks/subcommands.go:26-32
buildpacks:detect      app --branch=git-ref    # buildpacks/functions.go:118-126 git checkout
buildpacks:list        app                     # buildpacks/subcommands.go:70-85
buildpacks:remove      app --index=int @buildpack?   # buildpacks/subcommands.go:88-140
buildpacks:set         app --index=int --replace @buildpack+   # buildpacks/subcommands.go:165-214
buildpacks:set-property app prop:stack=registry-image   # builder-herokuish/builder-build:26-29,55 built FROM it
buildpacks:report      app --format=choice:stdout|json --buildpacks-computed-stack --buildpacks-global-stack
                           --buildpacks-list --buildpacks-stack
    # buildpacks/report.go:11-29
# ---- app-json ----
app-json:set           app prop:appjson-path=relpath   # common/common.go:292-297,338-369 Join + Copy
app-json:report        app --format=choice:stdout|json --app-json-appjson-path
                           --app-json-computed-appjson-path --app-json-global-appjson-path
    # app-json/report.go:8-26
# ---- registry ----
registry:login         app @registry-host @registry-user @secret
    # src/subcommands/subcommands.go:47-63: 3 positionals = a GLOBAL login; --password-stdin changes the count: admin
registry:logout        app @registry-host      # src/subcommands/subcommands.go:74-81: 1 positional = global logout
registry:set           app prop:push-on-release=bool prop:server=registry-host prop:push-extra-tags=tags
    # registry/functions.go:92-177; image-repo(-template) run/retag another app's image (triggers.go:11-28,134-143): admin
registry:report        app --format=choice:stdout|json --registry-computed-image-repo
                           --registry-computed-image-repo-template --registry-computed-push-extra-tags
                           --registry-computed-push-on-release --registry-computed-server
                           --registry-global-image-repo-template --registry-global-push-extra-tags
                           --registry-global-push-on-release --registry-global-server
                           --registry-image-repo --registry-image-repo-template --registry-push-extra-tags
                           --registry-push-on-release --registry-server --registry-tag-version
    # registry/report.go:10-46 (no credentials)
# ---- docker-options: raw docker run/build arguments ----
docker-options:report  app --format=choice:stdout|json --docker-options-build --docker-options-deploy
                           --docker-options-run --docker-options-deploy.*=proctype
    # docker-options/report.go:17-45 (own app; one deploy.TYPE flag per process type with options)
docker-options:list    app --process=proctype --phase=choice:build|deploy|run   # docker-options/functions.go:194-226
docker-options:add     app literal opts-stop --process=proctypes @phases @text+   # joined into docker args: root
    # docker-options/src/subcommands/subcommands.go:20-39 words joined; functions.go:25-67
docker-options:remove  app literal opts-stop --process=proctypes @phases @text+   # drops an admin's restrictions
    # docker-options/functions.go:72-110
docker-options:clear   app literal --process=proctypes @phases?   # docker-options/functions.go:132-164 (an admin's too)
# ---- storage ----
storage:list           app --format=choice:text|json   # storage/subcommands.go:303-336
storage:report         app --format=choice:stdout|json --storage-build-mounts --storage-deploy-mounts
                           --storage-run-mounts --storage-attachment.*=attachment-key
    # storage/report.go:11-38; attachment.N.FIELD: one set per attachment of the app (:29-37,76-91)
storage:unmount        app --container-dir=abspath @storage-ref   # storage/attachment.go:169-201 compared only
storage:mount          app literal --container-dir=abspath --phase=text --process-type=proctype
                           --volume-subpath=text --volume-readonly --volume-chown=text
                           --volume-options=text @text   # storage/subcommands.go:150-275 bind-mounts a host path
storage:create         admin literal           # global storage entries and host directories
storage:ensure-directory admin literal
storage:exec           admin literal
storage:destroy        admin                   # storage/src/subcommands/subcommands.go:20-217: global entries
storage:info           admin
storage:list-entries   admin
storage:set            admin
storage:wait           admin
storage:migrate        admin
storage:labels:report  admin
storage:labels:set     admin
storage:annotations:report admin
storage:annotations:set admin
# ---- network ----
network:set            app prop:bind-all-interfaces=bool prop:tld=domain
    # scheduler-deploy-process-container:51-53; network/functions.go:40-49; initial-network (re-split,
    # network/triggers.go:25-28), attach-* and static-web-listener: admin (host-wide networks, upstreams)
network:rebuild        app                     # network/network.go:36-96 own IP/PORT files; no VerifyAppName: only the gate checks the app
network:report         app --format=choice:stdout|json --network-attach-post-create
                           --network-attach-post-deploy --network-bind-all-interfaces
                           --network-computed-attach-post-create --network-computed-attach-post-deploy
                           --network-computed-bind-all-interfaces --network-computed-initial-network
                           --network-computed-tld --network-global-attach-post-create
                           --network-global-attach-post-deploy --network-global-bind-all-interfaces
                           --network-global-initial-network --network-global-tld
                           --network-initial-network --network-static-web-listener --network-tld
                           --network-web-listeners
    # network/report.go:10-50
network:create         admin                   # host-wide docker networks (network/src/subcommands/subcommands.go:21-57)
network:destroy        admin
network:exists         admin
network:info           admin
network:list           admin
network:rebuildall     admin                   # every app
# ---- certs ----
certs:add              app                     # a tarball on stdin; CRT KEY paths cp host files (certs/internal-functions:26-27)
certs:update           app
    # certs/subcommands/update:36-72 as add: a tarball on stdin (CRT KEY host paths: no positional)
certs:generate         app @domain?            # certs/subcommands/generate:30 domains-add
certs:show             app @choice:crt|key     # certs/subcommands/show:11-24
certs:remove           app                     # certs/internal-functions:34-47
certs:rollback         app                     # not implemented (certs/help-functions:36)
certs:report           app --format=choice:stdout|json --ssl-dir --ssl-enabled --ssl-expires-at
                           --ssl-hostnames --ssl-issuer --ssl-starts-at --ssl-subject --ssl-verified
    # certs/report.go:16-31
certs:chain            admin                   # not implemented, takes no app (certs/help-functions:31)
certs:key              admin                   # not implemented (certs/help-functions:33)
# ---- tags (Dokku < 0.26; removed in e893ac2aa) ----
tags:deploy            app @tag                # old plugins/tags/subcommands/deploy:10-17 (own repo)
# ---- domains (plugins/domains) ----
domains:add            app @domain+            # domains/functions:94-120; server_name, traefik/caddy labels
domains:set            app @domain+            # domains/functions:136-157
domains:remove         app @domain+            # domains/functions:122-134 word pasted into a GNU sed address (e, w)
domains:clear          app                     # domains/functions:7-29
domains:reset          app                     # domains/subcommands/reset:13-16
domains:enable         app                     # domains/subcommands/enable:13 never verifies the app: the gate does
domains:disable        app
    # domains/subcommands/disable:11-14 verifies only --all (functions:159-170): only the gate checks the app
domains:report         app --format=choice:stdout|json
                           --domains-app-enabled --domains-app-vhosts --domains-global-enabled --domains-global-vhosts
    # domains/report.go:15-34
domains:add-global     admin                   # host-wide VHOST (domains/functions:190-243)
domains:set-global     admin
domains:remove-global  admin                   # the same sed on the global VHOST (domains/functions:219-228)
domains:clear-global   admin
# ---- ports (plugins/ports) ----
ports:add              app @portmap+           # ports/functions.go:312-364; scheme pasted unchecked (:356-360)
ports:set              app @portmap+           # ports/subcommands.go:103-131
ports:remove           app @portspec+          # ports/functions.go:317-331,371-386
ports:clear            app                     # ports/functions.go:25-31
ports:list             app                     # ports/subcommands.go:12-18
ports:report           app --format=choice:stdout|json
                           --ports-map --ports-map-json --ports-map-detected --ports-map-detected-json
    # ports/report.go:11-27
# ---- proxy (plugins/proxy) ----
proxy:build-config     app --parallel=int      # proxy/subcommands.go:11-22 (--all: ADMIN_OPTIONS)
proxy:clear-config     app                     # proxy/subcommands.go:24-35
proxy:enable           app --parallel=int      # proxy/subcommands.go:50-60 (--parallel is read only with --all)
proxy:disable          app --parallel=int      # proxy/subcommands.go:37-47
proxy:set              app prop:type=choice:nginx|openresty|caddy|haproxy|traefik
                           prop:proxy-port=port prop:proxy-ssl-port=port short:type
    # proxy/subcommands.go:85-99 (a lone TYPE is `type TYPE`); ports/functions.go:195-215 Atoi; disabled: use enable/disable
proxy:report           app --format=choice:stdout|json
                           --proxy-computed-disabled --proxy-computed-proxy-port --proxy-computed-proxy-ssl-port
                           --proxy-computed-type --proxy-disabled --proxy-enabled --proxy-global-proxy-port
                           --proxy-global-proxy-ssl-port --proxy-global-type --proxy-proxy-port
                           --proxy-proxy-ssl-port --proxy-type
    # proxy/report.go:8-39
# ---- nginx: every value is pasted bare before ';' into nginx.conf (templates/nginx.conf.sigil:26-82) ----

nginx:set              app   # nginx-vhosts/subcommands/set:11-36
"""
ROWS += _NGINX_PROPS + """                           prop:proxy-buffering=choice:on|off prop:proxy-keepalive=int
                           prop:underscore-in-headers=choice:on|off prop:x-forwarded-for-value=nginx-value
                           prop:x-forwarded-port-value=nginx-value prop:x-forwarded-proto-value=nginx-value
                           prop:x-forwarded-ssl=choice:on|off prop:hsts=bool prop:hsts-include-subdomains=bool
                           prop:hsts-preload=bool prop:hsts-max-age=int prop:disable-custom-config=bool
                           prop:access-log-format=word prop:nginx-conf-sigil-path=relpath
    # access-log-path, error-log-path (root opens them), nginx-service-command (run on reload,
    # internal-functions:765-773), bind-address-ipv4/6 (shared-listener hijack): admin
nginx:show-config      app                     # nginx-vhosts/command-functions:9-34 (own conf)
nginx:access-logs      app -t|--tail           # nginx-vhosts/functions:66-100
nginx:error-logs       app -t|--tail
    # nginx-vhosts/subcommands/error-logs:9-12; functions:66-100 (tail of the app's log; only $3 == -t)
nginx:validate-config  app --clean!            # command-functions:79-86: APP=--clean cleans every app
nginx:report           app   # nginx-vhosts/report.go:59-80
                           --format=choice:stdout|json --nginx-access-log-format --nginx-computed-access-log-format
                           --nginx-global-access-log-format --nginx-access-log-path --nginx-computed-access-log-path
                           --nginx-global-access-log-path --nginx-bind-address-ipv4 --nginx-computed-bind-address-ipv4
                           --nginx-global-bind-address-ipv4 --nginx-bind-address-ipv6
                           --nginx-computed-bind-address-ipv6 --nginx-global-bind-address-ipv6
                           --nginx-client-body-timeout --nginx-computed-client-body-timeout
                           --nginx-global-client-body-timeout --nginx-client-header-timeout
                           --nginx-computed-client-header-timeout --nginx-global-client-header-timeout
                           --nginx-client-max-body-size --nginx-computed-client-max-body-size
                           --nginx-global-client-max-body-size --nginx-disable-custom-config
                           --nginx-computed-disable-custom-config --nginx-global-disable-custom-config
                           --nginx-error-log-path --nginx-computed-error-log-path --nginx-global-error-log-path
                           --nginx-hsts-include-subdomains --nginx-computed-hsts-include-subdomains
                           --nginx-global-hsts-include-subdomains --nginx-hsts-max-age --nginx-computed-hsts-max-age
                           --nginx-global-hsts-max-age --nginx-hsts-preload --nginx-computed-hsts-preload
                           --nginx-global-hsts-preload --nginx-hsts --nginx-computed-hsts --nginx-global-hsts
                           --nginx-keepalive-timeout --nginx-computed-keepalive-timeout
                           --nginx-global-keepalive-timeout --nginx-lingering-timeout
                           --nginx-computed-lingering-timeout --nginx-global-lingering-timeout
                           --nginx-nginx-conf-sigil-path --nginx-computed-nginx-conf-sigil-path
                           --nginx-global-nginx-conf-sigil-path --nginx-nginx-service-command
                           --nginx-computed-nginx-service-command --nginx-global-nginx-service-command
                           --nginx-proxy-buffer-size --nginx-computed-proxy-buffer-size
                           --nginx-global-proxy-buffer-size --nginx-proxy-buffering --nginx-computed-proxy-buffering
                           --nginx-global-proxy-buffering --nginx-proxy-buffers --nginx-computed-proxy-buffers
                           --nginx-global-proxy-buffers --nginx-proxy-busy-buffers-size
                           --nginx-computed-proxy-busy-buffers-size --nginx-global-proxy-busy-buffers-size
                           --nginx-proxy-connect-timeout --nginx-computed-proxy-connect-timeout
                           --nginx-global-proxy-connect-timeout --nginx-proxy-keepalive
                           --nginx-computed-proxy-keepalive --nginx-global-proxy-keepalive --nginx-proxy-read-timeout
                           --nginx-computed-proxy-read-timeout --nginx-global-proxy-read-timeout
                           --nginx-proxy-send-timeout --nginx-computed-proxy-send-timeout
                           --nginx-global-proxy-send-timeout --nginx-send-timeout --nginx-computed-send-timeout
                           --nginx-global-send-timeout --nginx-underscore-in-headers
                           --nginx-computed-underscore-in-headers --nginx-global-underscore-in-headers
                           --nginx-x-forwarded-for-value --nginx-computed-x-forwarded-for-value
                           --nginx-global-x-forwarded-for-value --nginx-x-forwarded-port-value
                           --nginx-computed-x-forwarded-port-value --nginx-global-x-forwarded-port-value
                           --nginx-x-forwarded-proto-value --nginx-computed-x-forwarded-proto-value
                           --nginx-global-x-forwarded-proto-value --nginx-x-forwarded-ssl
                           --nginx-computed-x-forwarded-ssl --nginx-global-x-forwarded-ssl --nginx-last-visited-at
nginx:start            admin                   # host-wide service
nginx:stop             admin
nginx:reload           admin
# ---- openresty: values become '--label=openresty.P=VALUE' (docker-args-process-deploy:145-207) ----
openresty:set          app   # openresty-vhosts/subcommands/set:11-39; paths, bind-address, global keys: admin
"""
ROWS += _NGINX_PROPS + """                           prop:proxy-buffering=choice:on|off prop:underscore-in-headers=choice:on|off
                           prop:x-forwarded-for-value=nginx-value prop:x-forwarded-port-value=nginx-value
                           prop:x-forwarded-proto-value=nginx-value prop:x-forwarded-ssl=choice:on|off prop:hsts=bool
                           prop:hsts-include-subdomains=bool prop:hsts-preload=bool prop:hsts-max-age=int
                           prop:access-log-format=word
    # no verify_app_name (every key is in GLOBAL_KEYS, set:13,22-27): only the gate checks the app
openresty:report       app   # openresty-vhosts/report.go:70-110
                           --format=choice:stdout|json --openresty-access-log-format
                           --openresty-global-access-log-format --openresty-computed-access-log-format
                           --openresty-access-log-path --openresty-global-access-log-path
                           --openresty-computed-access-log-path --openresty-bind-address-ipv4
                           --openresty-global-bind-address-ipv4 --openresty-computed-bind-address-ipv4
                           --openresty-bind-address-ipv6 --openresty-global-bind-address-ipv6
                           --openresty-computed-bind-address-ipv6 --openresty-client-body-timeout
                           --openresty-global-client-body-timeout --openresty-computed-client-body-timeout
                           --openresty-client-header-timeout --openresty-global-client-header-timeout
                           --openresty-computed-client-header-timeout --openresty-client-max-body-size
                           --openresty-global-client-max-body-size --openresty-computed-client-max-body-size
                           --openresty-error-log-path --openresty-global-error-log-path
                           --openresty-computed-error-log-path --openresty-hsts-include-subdomains
                           --openresty-global-hsts-include-subdomains --openresty-computed-hsts-include-subdomains
                           --openresty-hsts-max-age --openresty-global-hsts-max-age --openresty-computed-hsts-max-age
                           --openresty-hsts-preload --openresty-global-hsts-preload --openresty-computed-hsts-preload
                           --openresty-hsts --openresty-global-hsts --openresty-computed-hsts
                           --openresty-keepalive-timeout --openresty-global-keepalive-timeout
                           --openresty-computed-keepalive-timeout --openresty-lingering-timeout
                           --openresty-global-lingering-timeout --openresty-computed-lingering-timeout
                           --openresty-proxy-buffer-size --openresty-global-proxy-buffer-size
                           --openresty-computed-proxy-buffer-size --openresty-proxy-buffering
                           --openresty-global-proxy-buffering --openresty-computed-proxy-buffering
                           --openresty-proxy-buffers --openresty-global-proxy-buffers
                           --openresty-computed-proxy-buffers --openresty-proxy-busy-buffers-size
                           --openresty-global-proxy-busy-buffers-size --openresty-computed-proxy-busy-buffers-size
                           --openresty-proxy-connect-timeout --openresty-global-proxy-connect-timeout
                           --openresty-computed-proxy-connect-timeout --openresty-proxy-read-timeout
                           --openresty-global-proxy-read-timeout --openresty-computed-proxy-read-timeout
                           --openresty-proxy-send-timeout --openresty-global-proxy-send-timeout
                           --openresty-computed-proxy-send-timeout --openresty-send-timeout
                           --openresty-global-send-timeout --openresty-computed-send-timeout
                           --openresty-underscore-in-headers --openresty-global-underscore-in-headers
                           --openresty-computed-underscore-in-headers --openresty-x-forwarded-for-value
                           --openresty-global-x-forwarded-for-value --openresty-computed-x-forwarded-for-value
                           --openresty-x-forwarded-port-value --openresty-global-x-forwarded-port-value
                           --openresty-computed-x-forwarded-port-value --openresty-x-forwarded-proto-value
                           --openresty-global-x-forwarded-proto-value --openresty-computed-x-forwarded-proto-value
                           --openresty-x-forwarded-ssl --openresty-global-x-forwarded-ssl
                           --openresty-computed-x-forwarded-ssl --openresty-global-image --openresty-computed-image
                           --openresty-global-letsencrypt-email --openresty-computed-letsencrypt-email
                           --openresty-global-letsencrypt-server --openresty-computed-letsencrypt-server
                           --openresty-global-log-level --openresty-computed-log-level
                           --openresty-global-allowed-letsencrypt-domains-func-base64
                           --openresty-computed-allowed-letsencrypt-domains-func-base64   # :108-114
openresty:labels:show  app @word?              # proxy/command-functions:7-22
openresty:labels:add   admin                   # '--label $line' in docker args; configures the shared proxy (:209-214)
openresty:labels:remove admin                  # removes an admin's labels (proxy/command-functions:43-62)
openresty:show-config  admin                   # the proxy's global compose file, whatever the app
openresty:start        admin
openresty:stop         admin
# ---- caddy, haproxy, traefik ----
caddy:set              app prop:tls-internal=bool   # caddy-vhosts/docker-args-process-deploy:91-98; other keys global only
caddy:report           app   # caddy-vhosts/report.go:16-35
                           --format=choice:stdout|json --caddy-tls-internal --caddy-computed-image
                           --caddy-computed-letsencrypt-email --caddy-computed-letsencrypt-server
                           --caddy-computed-log-level --caddy-computed-polling-interval --caddy-computed-tls-internal
                           --caddy-global-image --caddy-global-letsencrypt-email --caddy-global-letsencrypt-server
                           --caddy-global-log-level --caddy-global-polling-interval --caddy-global-tls-internal
caddy:labels:show      app @word?
    # caddy-vhosts/command-functions:25-31; proxy/command-functions:7-22, name escaped for sed (proxy/functions:6-10,53-55)
caddy:labels:add       admin                   # caddy-vhosts/docker-args-process-deploy:132-137 shared proxy directives
caddy:labels:remove    admin
caddy:show-config      admin                   # caddy-vhosts/command-functions:68-82 ignores the app
caddy:start            admin
caddy:stop             admin
haproxy:set            admin                   # every key is global only (haproxy-vhosts/subcommands/set)
haproxy:report         app   # haproxy-vhosts/report.go:13-35
                           --format=choice:stdout|json --haproxy-computed-image --haproxy-computed-letsencrypt-email
                           --haproxy-computed-letsencrypt-server --haproxy-computed-log-level
                           --haproxy-computed-refresh-conf --haproxy-global-image --haproxy-global-letsencrypt-email
                           --haproxy-global-letsencrypt-server --haproxy-global-log-level --haproxy-global-refresh-conf
haproxy:labels:show    app @word?              # haproxy-vhosts/command-functions:25-31; proxy/command-functions:7-22
haproxy:labels:add     admin                   # proxy/command-functions:24-41
haproxy:labels:remove  admin
haproxy:show-config    admin
haproxy:start          admin
haproxy:stop           admin
traefik:set            admin                   # every key is global only (traefik-vhosts/subcommands/set:14-37)
traefik:report         admin                   # prints the dashboard basic-auth password (traefik-vhosts/report.go:27,40)
traefik:labels:show    app @word?              # traefik-vhosts/command-functions:25-31; proxy/command-functions:7-22
traefik:labels:add     admin                   # traefik-vhosts/docker-args-process-deploy:161-167 routers on the shared proxy
traefik:labels:remove  admin
traefik:show-config    admin                   # templates/compose.yml.sigil:35-45 DNS provider credentials
traefik:start          admin
traefik:stop           admin
# ---- host administration ----
events                 admin                   # host-wide event log (plugins/events)
events:list            admin
events:off             admin
events:on              admin
plugin:disable         admin                   # plugins run as root/dokku on the host
plugin:enable          admin
plugin:install         admin
plugin:install-dependencies admin
plugin:list            admin
plugin:trigger         admin
plugin:uninstall       admin
plugin:update          admin
ssh-keys:add           admin                   # dokku's own authorized_keys (the gate manages access)
ssh-keys:list          admin
ssh-keys:remove        admin
trace:on               admin                   # DOKKU_TRACE for every later command: host internals on stderr
trace:off              admin
shell                  admin                   # an interactive dokku shell
result                 admin                   # not a per-app command; nothing a team needs
# ---- scheduler-k3s: the join token (scheduler-k3s/report.go:36-39,75), cluster-wide properties ----
scheduler-k3s:annotations:report admin
scheduler-k3s:annotations:set admin
scheduler-k3s:autoscaling-auth:report admin
scheduler-k3s:autoscaling-auth:set admin
scheduler-k3s:charts:report admin
scheduler-k3s:charts:set admin
scheduler-k3s:cluster:add admin
scheduler-k3s:cluster:list admin
scheduler-k3s:cluster:remove admin
scheduler-k3s:ensure-charts admin
scheduler-k3s:initialize admin
scheduler-k3s:labels:report admin
scheduler-k3s:labels:set admin
scheduler-k3s:node-sysctls:report admin
scheduler-k3s:node-sysctls:set admin
scheduler-k3s:preview  admin
scheduler-k3s:profiles:add admin
scheduler-k3s:profiles:list admin
scheduler-k3s:profiles:remove admin
scheduler-k3s:report   admin
scheduler-k3s:set      admin
scheduler-k3s:show-kubeconfig admin
scheduler-k3s:uninstall admin
# ---- the gate's own forms (request.py parses them) ----
git-receive-pack       form
git-upload-pack        form
docker:pull            form
docker:tag             form
docker:version         form
# ---- teams verbs ----
teams:whoami           teams who:anyone --format=choice:json|stdout @report-flag?
teams:whois            teams who:anyone --format=choice:json|stdout @report-flag?
teams:list             teams who:anyone --format=choice:json|stdout
teams:team-report      teams who:anyone --format=choice:json|stdout @report-flag?
teams:member-add       teams who:owner
teams:member-remove    teams who:owner
teams:owner-add        teams who:owner
teams:owner-remove     teams who:owner
teams:destroy          teams who:owner --force
teams:create           teams who:admin
teams:command-add      teams who:admin
teams:command-remove   teams who:admin
teams:app-add          teams who:admin
teams:app-remove       teams who:admin
teams:service-add      teams who:admin
teams:service-remove   teams who:admin
teams:who-can          teams who:admin --format=choice:json|stdout
"""

DATASTORE_ROWS = """
list                   servicelist do:listing   # common-functions:690-703 (the gate filters the list)
exists                 service                  # subcommands/exists:15-19
info                   service --config-dir --config-options --data-dir --dsn --exposed-ports --id
                           --internal-ip --initial-network --links --post-create-network
                           --post-start-network --service-root --status --version   # common-functions:561-602
links                  service                  # common-functions:678-688
linked                 service,app              # common-functions:604-616
link                   service,app opts-last -a|--alias=link-alias -q|--querystring=querystring -n|--no-restart
    # common-functions:618-664: ${ALIAS^^}_URL becomes a config key (:757-759), QS appended to its value (:655,792)
unlink                 service,app opts-last -n|--no-restart   # common-functions:980-1010
app-links              app                      # common-functions:245-261
create                 service opts-last
                           -c|--config-options=service-args -C|--custom-env=custom-env -I|--image-version=image-tag
                           -m|--memory=int -s|--shm-size=size -p|--password=password -r|--root-password=password
    # functions:24-169: -c unquoted after the image (:127), -C env-file (common-functions:325-331),
    # -m/-s array elements (:109-117); -i (any local image, :34-41), -N/-P/-S (networks), -R, -d, -u: admin
clone                  service,new opts-last
                           -c|--config-options=service-args -C|--custom-env=custom-env -I|--image-version=image-tag
                           -m|--memory=int -s|--shm-size=size -p|--password=password -r|--root-password=password
    # subcommands/clone:27-50 (flags parsed as create)
upgrade                service opts-last
                           -c|--config-options=service-args -C|--custom-env=custom-env -I|--image-version=image-tag
                           -m|--memory=int -s|--shm-size=size
    # subcommands/upgrade:25-73; -R restarts every linked app, other teams' too (:53-70): admin
connect                service                  # functions:13-22 (own container)
enter                  service opts-stop @cmdword*   # common-functions:503-516 command after the container id
export                 service                  # functions:171-183
import                 service                  # functions:185-197
expose                 service opts-last @hostport*   # common-functions:834-866,87-93 -p unquoted
unexpose               service
    # subcommands/unexpose:15-19; common-functions:868-908 (own PORT file and ambassador)
start                  service                  # subcommands/start:15-19; functions:199-232 (the service's stored settings)
stop                   service                  # subcommands/stop:15-19; common-functions:476-494
restart                service                  # subcommands/restart:15-21; common-functions:960-978, functions:199-232
pause                  service                  # common-functions:960-978
destroy                service opts-last -f|--force   # subcommands/destroy:16-56 (refuses while linked)
logs                   service opts-last -t|--tail @int?   # common-functions:705-722 --tail $N unquoted
backup                 service opts-last @bucket --use-iam|-u   # common-functions:263-317 unquoted docker run args
backup-auth            service @secret-token @secret-token @word? @word? @url?   # common-functions:370-390, read back :277,296-305
backup-deauth          service                  # common-functions:392-399
backup-set-encryption  service @secret-token    # common-functions:430-438, read back :307-309
backup-set-public-key-encryption service @gpg-key-id   # common-functions:440-448, read back :311-313
backup-unset-encryption service                 # common-functions:458-465
backup-unset-public-key-encryption service      # common-functions:467-474
backup-schedule-cat    service                  # common-functions:418-428
backup-unschedule      service                  # common-functions:450-456
backup-schedule        service literal opts-last @cron @bucket --use-iam|-u
    # common-functions:401-416: a root-owned /etc/cron.d line that runs without the gate
connect-admin          service                  # dokku-mongo subcommands/connect-admin:15-24 (own container, its own root password)
promote                admin                    # common-functions:918-935 re-splits the old URL value unquoted
set                    admin                    # subcommands/set:23 docker networks (functions:119-145)
"""
