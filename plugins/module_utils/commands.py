# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command table: for every Dokku core command, where its app and service arguments sit
and which options it takes. Data only; ``request.py`` reads it.

Ground truth: Dokku 0.38's own synopses (``dokku-commands.txt`` in the project's shared
notes). One line a command::

    NAME  SHAPE  [OPTION ...]  [max:N]  [rest]

SHAPE says what the positional arguments touch:

    app        the first positional is an app; without it the command touches every app
               (or a --global setting) and is admin-only
    none       touches no app and reveals nothing about other apps (version, help)
    admin      admin-only whatever its arguments (host-wide, every app, keys, plugins)
    new        apps:create: the first positional is a new app
    app,new    apps:rename / apps:clone: an existing app, then a new one
    applist    apps:list: runs, and the gate filters its output to the caller's apps
    escape     app-scoped like ``app``, and a host escape: no glob grants it, only its literal name
    escape-admin  a host escape with no app: admin-only

OPTION is ``--name`` (a switch) or ``--name=`` (takes a value, as ``--name V`` or
``--name=V``); ``-x|--name=`` gives aliases; a trailing ``!`` makes it admin-only (``--global``,
``--all``). ``max:N`` caps the positional arguments (refusing host paths where Dokku would
read a file on the server); ``rest`` passes every word after the app through unparsed (the
command line of ``run``).
"""

from __future__ import annotations

# Options no command accepts from a non-admin, wherever they stand.
ADMIN_OPTIONS = frozenset(("--global", "--all", "--all-apps"))

_CORE = """
app-json:report        app --global!
app-json:set           app --global!
apps:clone             app,new --skip-deploy --ignore-existing
apps:create            new
apps:destroy           app --force
apps:exists            app
apps:list              applist --format=
apps:lock              app
apps:locked            app
apps:rename            app,new --skip-deploy
apps:report            app --format=
apps:set               app --global!
apps:unlock            app
builder-dockerfile:report app --global!
builder-dockerfile:set app --global!
builder-herokuish:report app --global!
builder-herokuish:set  app --global!
builder-lambda:report  app --global!
builder-lambda:set     app --global!
builder-nixpacks:report app --global!
builder-nixpacks:set   app --global!
builder-pack:report    app --global!
builder-pack:set       app --global!
builder-railpack:report app --global!
builder-railpack:set   app --global!
builder:report         app --global!
builder:set            app --global!
buildpacks:add         app --index=
buildpacks:clear       app
buildpacks:detect      app --branch=
buildpacks:list        app
buildpacks:remove      app
buildpacks:report      app --global!
buildpacks:set         app --index= --replace
buildpacks:set-property app --global!
builds:cancel          app
builds:info            app --format=
builds:list            app --format= --kind= --status=
builds:output          app
builds:prune           app --all-apps!
builds:report          app --global!
builds:set             app --global!
caddy:labels:add       app
caddy:labels:remove    app
caddy:labels:show      app
caddy:report           app --global!
caddy:set              app --global!
caddy:show-config      app
caddy:start            admin
caddy:stop             admin
certs:add              app max:1
certs:chain            admin
certs:generate         app
certs:key              admin
certs:remove           app
certs:report           app --global!
certs:rollback         app
certs:show             app
certs:update           app max:1
checks:disable         app
checks:enable          app
checks:report          app --global!
checks:run             app
checks:set             app --global!
checks:skip            app
cleanup                app
config                 app --global! --merged
config:bundle          app --global! --merged
config:clear           app --global! --no-restart
config:export          app --global! --merged --format=
config:get             app --global! --quoted
config:import          app --global! --no-restart --replace max:1
config:keys            app --global! --merged
config:set             app --global! --encoded --no-restart
config:show            app --global! --merged
config:unset           app --global! --no-restart
cron:list              app --format=
cron:report            app --global!
cron:resume            app
cron:run               app --detach --ttl-seconds=
cron:set               app --global!
cron:suspend           app
docker-options:add     escape rest
docker-options:clear   escape
docker-options:remove  escape rest
docker-options:report  escape --global!
domains:add            app
domains:add-global     admin
domains:clear          app
domains:clear-global   admin
domains:disable        app
domains:enable         app
domains:remove         app
domains:remove-global  admin
domains:report         app --global!
domains:reset          app
domains:set            app
domains:set-global     admin
enter                  app --container-id=! rest
events                 admin
events:list            admin
events:off             admin
events:on              admin
git:allow-host         admin
git:auth               admin
git:auth-status        admin
git:from-archive       escape --archive-type=
git:from-image         app --build-dir=
git:generate-deploy-key admin
git:initialize         app
git:load-image         app --build-dir=
git:public-key         admin
git:report             app --global!
git:set                app --global!
git:status             app
git:sync               escape --build --build-if-changes --skip-deploy-branch
haproxy:labels:add     app
haproxy:labels:remove  app
haproxy:labels:show    app
haproxy:report         app --global!
haproxy:set            app --global!
haproxy:show-config    app
haproxy:start          admin
haproxy:stop           admin
help                   none
logs                   app -t|--tail -n|--num= -q|--quiet -p|--ps=
logs:failed            app --all!
logs:report            app --global!
logs:set               app --global!
logs:vector-logs       admin
logs:vector-start      admin
logs:vector-stop       admin
network:create         admin
network:destroy        admin
network:exists         admin
network:info           admin
network:list           admin
network:rebuild        app
network:rebuildall     admin
network:report         app --global!
network:set            app --global!
nginx:access-logs      app -t|--tail
nginx:error-logs       app -t|--tail
nginx:reload           admin
nginx:report           app --global!
nginx:set              app --global!
nginx:show-config      app
nginx:start            admin
nginx:stop             admin
nginx:validate-config  app --clean
openresty:labels:add   app
openresty:labels:remove app
openresty:labels:show  app
openresty:report       app --global!
openresty:set          app --global!
openresty:show-config  app
openresty:start        admin
openresty:stop         admin
plugin:disable         admin
plugin:enable          admin
plugin:install         admin
plugin:install-dependencies admin
plugin:list            admin
plugin:trigger         admin
plugin:uninstall       admin
plugin:update          admin
ports:add              app
ports:clear            app
ports:list             app
ports:remove           app
ports:report           app --global!
ports:set              app
proxy:build-config     app --parallel= --all!
proxy:clear-config     app --all!
proxy:disable          app
proxy:enable           app
proxy:report           app --global!
proxy:set              app
ps:inspect             app
ps:rebuild             app --parallel= --all!
ps:report              app --global!
ps:restart             app --parallel= --all!
ps:restore             app
ps:scale               app --skip-deploy --format=
ps:set                 app --global!
ps:start               app --parallel= --all!
ps:stop                app --parallel= --all!
registry:login         app --global! --password-stdin
registry:logout        app --global!
registry:report        app --global!
registry:set           app --global!
repo:gc                app
repo:purge-cache       app
resource:limit         app --process-type= --cpu= --memory= --memory-swap= --network= --network-ingress= --network-egress= --nvidia-gpu=
resource:limit-clear   app --process-type=
resource:report        app --global!
resource:reserve       app --process-type= --cpu= --memory= --memory-swap= --network= --network-ingress= --network-egress= --nvidia-gpu=
resource:reserve-clear app --process-type=
result                 admin
run                    app -e|--env= --no-tty --ttl-seconds= rest
run:detached           app -e|--env= --force-tty --ttl-seconds= rest
run:list               app --format=
run:logs               app -t|--tail -n|--num= -q|--quiet --container=!
run:retire             app
run:stop               app --container=!
scheduler-docker-local:report app --global!
scheduler-docker-local:set app --global!
scheduler-k3s:annotations:report app --global! --format= --process-type= --resource-type=
scheduler-k3s:annotations:set app --global! --process-type= --resource-type=
scheduler-k3s:autoscaling-auth:report app --global! --format= --include-metadata
scheduler-k3s:autoscaling-auth:set app --global! --metadata=
scheduler-k3s:charts:report admin
scheduler-k3s:charts:set admin
scheduler-k3s:cluster:add admin
scheduler-k3s:cluster:list admin
scheduler-k3s:cluster:remove admin
scheduler-k3s:ensure-charts admin
scheduler-k3s:initialize admin
scheduler-k3s:labels:report app --global! --format= --process-type= --resource-type=
scheduler-k3s:labels:set app --global! --process-type= --resource-type=
scheduler-k3s:node-sysctls:report admin
scheduler-k3s:node-sysctls:set admin
scheduler-k3s:preview  app --context= --show-secrets --show-secrets-decoded
scheduler-k3s:profiles:add admin
scheduler-k3s:profiles:list admin
scheduler-k3s:profiles:remove admin
scheduler-k3s:report   app --global! --format=
scheduler-k3s:set      app --global!
scheduler-k3s:show-kubeconfig admin
scheduler-k3s:uninstall admin
scheduler:report       app --global!
scheduler:set          app --global!
shell                  admin
ssh-keys:add           admin
ssh-keys:list          admin
ssh-keys:remove        admin
storage:annotations:report admin
storage:annotations:set admin
storage:create         escape-admin
storage:destroy        admin
storage:ensure-directory escape-admin
storage:exec           escape-admin
storage:info           admin
storage:labels:report  admin
storage:labels:set     admin
storage:list           app --format=
storage:list-entries   admin
storage:migrate        app --all!
storage:mount          escape
storage:report         app --global!
storage:set            admin
storage:unmount        app
storage:wait           admin
tags:deploy            app
trace:off              admin
trace:on               admin
traefik:labels:add     app
traefik:labels:remove  app
traefik:labels:show    app
traefik:report         app --global!
traefik:set            app --global!
traefik:show-config    app
traefik:start          admin
traefik:stop           admin
url                    app
urls                   app
version                none
"""

# The official datastore plugins share one set of verbs under their own prefix.
DATASTORE_TYPES = frozenset((
    "postgres", "mysql", "mariadb", "redis", "mongo", "rabbitmq", "elasticsearch", "couchdb",
    "memcached", "nats", "rethinkdb", "solr", "clickhouse", "meilisearch", "omnisci", "graphite",
    "pushpin", "typesense",
))

_SERVICE_FLAGS = ("-c|--config-options= -C|--custom-env= -i|--image= -I|--image-version= -m|--memory="
                  " -N|--initial-network= -P|--post-create-network= -S|--post-start-network="
                  " -p|--password= -r|--root-password= -s|--shm-size= -R|--restart-apps=")

# The info verb's switches (each shows one field of the report).
_INFO_FLAGS = ("--config-dir --data-dir --dsn --exposed-ports --id --internal-ip --initial-network --links"
               " --post-create-network --post-start-network --service-root --status --version")

# Service shapes: ``service`` (first positional), ``service,app`` (service then app),
# ``service,new`` (clone), ``app`` (app-links), ``servicelist`` (the gate filters the list),
# ``escape`` (schedule: the plugin writes the schedule into a root cron file).
_DATASTORE = """
app-links              app
backup                 service --use-iam
backup-auth            service
backup-deauth          service
backup-schedule        escape --use-iam
backup-schedule-cat    service
backup-set-encryption  service
backup-set-public-key-encryption service
backup-unschedule      service
backup-unset-encryption service
backup-unset-public-key-encryption service
clone                  service,new %(flags)s
connect                service
create                 service %(flags)s
destroy                service -f|--force
enter                  service
exists                 service
export                 service
expose                 service
import                 service
info                   service %(info_flags)s
link                   service,app -a|--alias= -q|--querystring= -n|--no-restart
linked                 service,app
links                  service
list                   servicelist
logs                   service -t|--tail
pause                  service
promote                service,app
restart                service
set                    service
start                  service
stop                   service
unexpose               service
unlink                 service,app -n|--no-restart
upgrade                service %(flags)s
""" % {"flags": _SERVICE_FLAGS, "info_flags": _INFO_FLAGS}

# Properties that point a setting at a path on the host (nginx opens its logs as root).
ADMIN_PROPERTIES = {
    "nginx:set": frozenset(("access-log-path", "error-log-path")),
    "openresty:set": frozenset(("access-log-path", "error-log-path")),
}


class Spec(object):
    """One command's entry: its shape, options, positional cap, and pass-through."""

    __slots__ = ("name", "shape", "options", "max_positional", "rest")

    def __init__(self, name, shape, options, max_positional, rest):
        self.name = name
        self.shape = shape
        self.options = options          # option word -> (canonical name, takes_value, admin_only)
        self.max_positional = max_positional
        self.rest = rest


def _parse(name, fields):
    shape = fields[0]
    options = {}
    max_positional = None
    rest = False
    for field in fields[1:]:
        if field == "rest":
            rest = True
        elif field.startswith("max:"):
            max_positional = int(field[4:])
        else:
            admin_only = field.endswith("!")
            field = field.rstrip("!")
            takes_value = field.endswith("=")
            field = field.rstrip("=")
            aliases = field.split("|")
            for alias in aliases:
                options[alias] = (aliases[-1], takes_value, admin_only)
    return Spec(name, shape, options, max_positional, rest)


def _line(text, name):
    """The fields of ``name``'s line in ``text`` (found, not parsed: the gate needs one line)."""
    at = text.find("\n" + name + " ")
    if at < 0:
        return None
    end = text.find("\n", at + 1)
    return text[at + 1:end].split()


def lookup(command):
    """The spec for ``command``, or ``None`` when the table does not know it."""
    if not command or " " in command or "\n" in command:
        return None
    fields = _line(_CORE, command)
    if fields is not None:
        return _parse(command, fields[1:])
    kind, sep, verb = command.partition(":")
    if sep and kind in DATASTORE_TYPES:
        fields = _line(_DATASTORE, verb)
        if fields is not None:
            return _parse(command, fields[1:])
    return None


def core_commands():
    """Every core command name the table knows."""
    return [line.split()[0] for line in _CORE.strip().splitlines()]


def datastore_verbs():
    return [line.split()[0] for line in _DATASTORE.strip().splitlines()]


def host_escape_commands():
    """Commands no glob grants: they can reach the host outside Dokku's sandbox. A team gets
    one only by naming it literally, and every tool that shows the policy flags it."""
    names = [name for name in core_commands() if lookup(name).shape.startswith("escape")]
    names += ["%s:%s" % (kind, verb) for kind in sorted(DATASTORE_TYPES) for verb in datastore_verbs()
              if lookup("%s:%s" % (kind, verb)).shape.startswith("escape")]
    return frozenset(names)


def admin_only_commands():
    """Commands that are admin-only whatever their arguments."""
    return frozenset(name for name in core_commands() if lookup(name).shape in ("admin", "escape-admin"))


def is_host_escape(command):
    spec = lookup(command)
    return spec is not None and spec.shape.startswith("escape")


def is_admin_only(command):
    spec = lookup(command)
    return spec is not None and spec.shape in ("admin", "escape-admin")


# Pseudo-commands of the gate's own forms (see request.py), for tools that list commands.
PSEUDO = frozenset(("git-receive-pack", "git-upload-pack", "docker:pull", "docker:tag", "docker:version"))
