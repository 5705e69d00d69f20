# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry's rows (format: ``commands.py``). Data only.

Every option, positional word and property a non-admin may pass is typed here, and the comment
beside it names the Dokku source that shows what Dokku does with it (``dokku/dokku`` paths, Dokku
0.38; datastore verbs from ``dokku/dokku-postgres``, whose code the official datastore plugins
share). What could not be established is left out, and so is admin-only.
"""

ROWS = """
version                none
help                   admin
apps:list              applist do:listing --format=choice:json|stdout
apps:create            new do:record
apps:destroy           app --force
apps:exists            app
apps:lock              app
apps:locked            app
apps:unlock            app
apps:rename            app,new do:record --skip-deploy
apps:clone             app,new do:record --skip-deploy
apps:report            app --global! @report-flag?
ps:inspect             app
ps:rebuild             app --parallel=int --all!
ps:report              app --global! @report-flag?
ps:restart             app --parallel=int --all! @proctype?
ps:restore             app
ps:start               app --parallel=int --all!
ps:stop                app --parallel=int --all!
ps:scale               app --skip-deploy --format=choice:json|stdout @scale*
ps:set                 app --global! prop:restart-policy=restart-policy
logs                   app -t|--tail -n|--num=int -q|--quiet -p|--ps=proctype
logs:failed            app --all!
config                 app --global!
config:show            app --global! --merged
config:keys            app --global! --merged
config:get             app --global! --quoted @config-key
config:set             app --global! --encoded --no-restart @config-pair+
config:unset           app --global! --no-restart @config-key+
config:clear           app --global! --no-restart
config:export          app --global! --merged --format=choice:exports|envfile|docker-args|docker-args-keys|json|json-list|pack-keys|pretty|shell
config:bundle          app --global! --merged
config:import          app --global! --no-restart --replace
domains:add            app @domain+
domains:remove         app @domain+
domains:set            app @domain+
domains:clear          app
domains:reset          app
domains:enable         app
domains:disable        app
domains:report         app --global! @report-flag?
ports:add              app @portmap+
ports:set              app @portmap+
ports:remove           app @portmap+
ports:clear            app
ports:list             app
ports:report           app --global! @report-flag?
proxy:build-config     app --parallel=int --all!
proxy:report           app --global! @report-flag?
run                    app opts-stop -e|--env=env-pair --no-tty --ttl-seconds=int @cmdword+
enter                  app opts-stop --container-id=int! @proctype?
url                    app
urls                   app
resource:limit         app --process-type=proctype --cpu=cpus --memory=size --memory-swap=size
resource:limit-clear   app --process-type=proctype
resource:reserve       app --process-type=proctype --cpu=cpus --memory=size --memory-swap=size
resource:reserve-clear app --process-type=proctype
resource:report        app --global! @report-flag?
checks:disable         app @proctypes?
checks:enable          app @proctypes?
checks:skip            app @proctypes?
checks:run             app @proctypes?
checks:report          app --global! @report-flag?
git:initialize         app
git:status             app
git:report             app --global! @report-flag?
git:load-image         app do:spool @own-image
git:from-image         app @source-image
builder:set            app --global! prop:build-dir=relpath
docker-options:add     app literal opts-stop @any+
docker-options:remove  app literal opts-stop @any+
docker-options:clear   app literal @any?
docker-options:report  app literal --global! @report-flag?
git:from-archive       app literal --archive-type=choice:tar|tar.gz|zip @any+
git:sync               app literal --build --build-if-changes --skip-deploy-branch @any+
storage:mount          app literal @any
storage:create         admin literal
storage:ensure-directory admin literal
storage:exec           admin literal
git-receive-pack       form
git-upload-pack        form
docker:pull            form
docker:tag             form
docker:version         form
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
list                   servicelist do:listing
exists                 service
info                   service
links                  service
linked                 service,app
link                   service,app
unlink                 service,app
backup-schedule        service literal
"""
