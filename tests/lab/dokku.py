"""Dokku stand-in for the dokku_ci.teams lab.  NOT Dokku, and never part of roles/.

It is small and honest: it records every call, keeps an app list, runs the real
`git receive-pack` / `git upload-pack` against a bare repository per app, runs the real
`docker load` for `git:load-image` where an engine answers, dispatches `PREFIX:VERB` to
enabled plugins like Dokku does, and for every other known Dokku command prints one line
saying what was called.  It never pretends to build or deploy anything.

Paths (defaults are the lab's; DOKKU_STANDIN_ROOT=DIR moves everything under DIR for tests
that run without the lab):
  call log   /var/log/dokku-standin/calls.jsonl     (DIR/log/calls.jsonl)
  apps       /home/dokku/APP (a bare git repo each)  (DIR/apps/APP)
  plugins    /var/lib/dokku/plugins/enabled          (DIR/plugins/enabled)

Call log: one JSON object a line with keys
  time, pid, argv, uid, gid, euid, egid, groups, user, cwd, env, stdin_isatty
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

VERSION = "0.38.0"
DOKKU_USER = "dokku"
NOT_IMPLEMENTED_EXIT = 10  # Dokku's DOKKU_NOT_IMPLEMENTED_EXIT for plugin `commands` files

# Generated from Dokku 0.38's command synopses: where the app argument is.
APP_REQUIRED = frozenset("""
app-json:set apps:clone apps:create apps:destroy apps:exists apps:lock apps:locked
apps:rename apps:set apps:unlock builder-dockerfile:set builder-herokuish:set
builder-lambda:set builder-nixpacks:set builder-pack:set builder-railpack:set builder:set
buildpacks:add buildpacks:clear buildpacks:detect buildpacks:list buildpacks:remove
buildpacks:set builds:cancel builds:info builds:output builds:prune caddy:labels:add
caddy:labels:remove caddy:labels:show caddy:show-config certs:add certs:generate certs:key
certs:remove certs:rollback certs:show certs:update checks:disable checks:enable checks:run
checks:skip config config:bundle config:clear config:export config:get config:import
config:keys config:set config:show config:unset cron:list cron:resume cron:run cron:suspend
docker-options:add docker-options:clear docker-options:remove domains:add domains:clear
domains:disable domains:enable domains:remove domains:reset domains:set enter
git:from-archive git:from-image git:initialize git:load-image git:set git:status git:sync
haproxy:labels:add haproxy:labels:remove haproxy:labels:show haproxy:set
haproxy:show-config logs network:rebuild network:set nginx:access-logs nginx:error-logs
nginx:set nginx:show-config openresty:labels:add openresty:labels:remove
openresty:labels:show openresty:set openresty:show-config ports:add ports:clear ports:list
ports:remove ports:set proxy:disable proxy:enable proxy:set ps:inspect ps:scale ps:set
registry:set repo:gc repo:purge-cache resource:limit resource:limit-clear resource:reserve
resource:reserve-clear run run:detached run:list run:logs run:stop
scheduler-k3s:annotations:set scheduler-k3s:autoscaling-auth:set scheduler-k3s:labels:set
scheduler-k3s:preview scheduler-k3s:set scheduler:set storage:list storage:mount
storage:unmount traefik:labels:add traefik:labels:remove traefik:labels:show traefik:set
traefik:show-config url urls
""".split())

APP_OPTIONAL = frozenset("""
app-json:report apps:report builder-dockerfile:report builder-herokuish:report
builder-lambda:report builder-nixpacks:report builder-pack:report builder-railpack:report
builder:report buildpacks:report buildpacks:set-property builds:list builds:report
builds:set caddy:report caddy:set certs:report checks:report checks:set cleanup cron:report
cron:set docker-options:report domains:report git:report haproxy:report logs:failed
logs:report logs:set network:report nginx:report nginx:validate-config openresty:report
ports:report proxy:build-config proxy:clear-config proxy:report ps:rebuild ps:report
ps:restart ps:restore ps:start ps:stop registry:login registry:logout registry:report
resource:report run:retire scheduler-docker-local:report scheduler-docker-local:set
scheduler-k3s:annotations:report scheduler-k3s:autoscaling-auth:report
scheduler-k3s:labels:report scheduler-k3s:report scheduler:report storage:migrate
storage:report traefik:report
""".split())

NO_APP = frozenset("""
apps:list caddy:start caddy:stop certs:chain domains:add-global domains:clear-global
domains:remove-global domains:set-global events events:list events:off events:on
git:allow-host git:auth git:auth-status git:generate-deploy-key git:public-key
haproxy:start haproxy:stop help logs:vector-logs logs:vector-start logs:vector-stop
network:create network:destroy network:exists network:info network:list network:rebuildall
nginx:reload nginx:start nginx:stop openresty:start openresty:stop plugin:disable
plugin:enable plugin:install plugin:install-dependencies plugin:list plugin:trigger
plugin:uninstall plugin:update result scheduler-k3s:charts:report scheduler-k3s:charts:set
scheduler-k3s:cluster:add scheduler-k3s:cluster:list scheduler-k3s:cluster:remove
scheduler-k3s:ensure-charts scheduler-k3s:initialize scheduler-k3s:node-sysctls:report
scheduler-k3s:node-sysctls:set scheduler-k3s:profiles:add scheduler-k3s:profiles:list
scheduler-k3s:profiles:remove scheduler-k3s:show-kubeconfig scheduler-k3s:uninstall shell
ssh-keys:add ssh-keys:list ssh-keys:remove storage:annotations:report
storage:annotations:set storage:create storage:destroy storage:ensure-directory
storage:exec storage:info storage:labels:report storage:labels:set storage:list-entries
storage:set storage:wait trace:off trace:on traefik:start traefik:stop version
""".split())

# Flags that take a separate value (so the value is not taken for the app).
VALUE_FLAGS = frozenset("""
--format --parallel -n --num -p --ps --index --process-type --ttl-seconds -e --env
--container --container-id --kind --status --branch --committish --name --chown --scheduler
--fingerprint --context --profile --role --server-ip --kubelet-args --resource-type
""".split())

# Like Dokku: these stay root when root calls them; everything else runs as `dokku`.
ROOT_COMMANDS = frozenset("ssh-keys:add ssh-keys:remove scheduler-k3s:initialize".split())

APP_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*\Z")


class Fail(Exception):
    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def paths():
    root = os.environ.get("DOKKU_STANDIN_ROOT")
    if root:
        return {"test": True, "log": os.path.join(root, "log", "calls.jsonl"),
                "rendered": os.path.join(root, "log", "rendered.jsonl"),
                "apps": os.path.join(root, "apps"), "lib": os.path.join(root, "lib"),
                "plugins": os.path.join(root, "plugins", "enabled")}
    return {"test": False, "log": "/var/log/dokku-standin/calls.jsonl",
            "rendered": "/var/log/dokku-standin/rendered.jsonl",
            "apps": "/home/dokku", "lib": "/var/lib/dokku", "plugins": "/var/lib/dokku/plugins/enabled"}


def record(p, argv):
    try:
        import pwd
        user = pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, ImportError):
        user = None
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None
    entry = {"time": time.time(), "pid": os.getpid(), "argv": argv,
             "uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(),
             "egid": os.getegid(), "groups": sorted(os.getgroups()), "user": user,
             "cwd": cwd, "env": dict(os.environ), "stdin_isatty": os.isatty(0)}
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    os.makedirs(os.path.dirname(p["log"]), exist_ok=True)
    old = os.umask(0)
    try:
        fd = os.open(p["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    finally:
        os.umask(old)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def become_dokku(cmd):
    """Dokku re-runs itself as the dokku user when called by anyone else."""
    euid = os.geteuid()
    import pwd
    try:
        pw = pwd.getpwnam(DOKKU_USER)
    except KeyError:
        raise Fail("dokku stand-in: there is no `dokku` user")
    if euid == pw.pw_uid:
        return
    if euid != 0:
        raise Fail("dokku stand-in: must be run as root or %s (uid %d); Dokku would need "
                   "sudo here" % (DOKKU_USER, euid))
    if cmd in ROOT_COMMANDS or (cmd.startswith("plugin:") and cmd not in ("plugin:list", "plugin:help")):
        return
    os.environ["SSH_USER"] = os.environ.get("SSH_USER", "root")
    os.initgroups(DOKKU_USER, pw.pw_gid)
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
    os.environ["HOME"] = pw.pw_dir
    os.environ["USER"] = os.environ["LOGNAME"] = DOKKU_USER


def err(message):
    sys.stderr.write("!     %s\n" % message)


def app_dir(p, app):
    return os.path.join(p["apps"], app)


def list_apps(p):
    try:
        names = os.listdir(p["apps"])
    except FileNotFoundError:
        return []
    return sorted(n for n in names if not n.startswith(".") and n != "tls"
                  and APP_NAME.match(n) and os.path.isdir(app_dir(p, n)))


def app_exists(p, app):
    return bool(app) and APP_NAME.match(app) is not None and os.path.isdir(app_dir(p, app))


def verify_app(p, app):
    if not app:
        raise Fail("Please specify an app to run the command on")
    if not app_exists(p, app):
        raise Fail("App %s does not exist" % app)
    if filter_apps(paths(), [app]) != [app]:    # VerifyAppName, plugins/common/common.go:1082
        raise Fail("App %s does not exist" % app)


def valid_new_name(app):
    if not app:
        raise Fail("Please specify an app to run the command on")
    if not APP_NAME.match(app) or ".." in app or len(app) > 200:
        raise Fail("App name must begin with lowercase alphanumeric character, and cannot "
                   "include uppercase characters, colons, or underscores")


def positionals(args):
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(args[i + 1:])
            break
        if a.startswith("-") and len(a) > 1:
            if "=" not in a and a in VALUE_FLAGS:
                i += 1
        else:
            out.append(a)
        i += 1
    return out


def create_app(p, app):
    valid_new_name(app)
    if app_exists(p, app):
        raise Fail("Name is already taken")
    os.makedirs(p["apps"], exist_ok=True)
    os.mkdir(app_dir(p, app), 0o755)
    create_hook(p, app)  # plugins/git/post-create


def init_bare(p, app):
    d = app_dir(p, app)
    if not os.path.isdir(os.path.join(d, "refs")):
        subprocess.run(["git", "init", "--quiet", "--bare", d], check=True,
                       stdout=subprocess.DEVNULL)


def strip_repo_arg(arg):
    # Dokku: remove unescaped single quotes, unescape \' and drop a leading slash.
    arg = re.sub(r"(?<!\\)'", "", arg).replace("\\'", "'")
    arg = re.sub(r"^/+", "", arg)
    if arg.endswith(".git"):
        arg = arg[:-4]
    return arg


def cmd_apps(p, cmd, args):
    pos = positionals(args)
    if cmd == "apps:list":
        fmt = "stdout"
        for i, a in enumerate(args):
            if a == "--format" and i + 1 < len(args):
                fmt = args[i + 1]
            elif a.startswith("--format="):
                fmt = a.split("=", 1)[1]
        apps = filter_apps(p, list_apps(p))
        if fmt == "json":
            print(json.dumps(apps))
        elif fmt == "stdout":
            print("=====> My Apps")
            for a in apps:
                print(a)
        else:
            raise Fail("Invalid --format value specified")
        return 0
    app = pos[0] if pos else ""
    if cmd == "apps:create":
        create_app(p, app)
        print("-----> Creating %s..." % app)
        return 0
    if cmd == "apps:exists":
        verify_app(p, app)
        return 0
    if cmd == "apps:destroy":
        verify_app(p, app)
        force = "--force" in args or "-f" in args or (len(pos) > 1 and pos[1] == app)
        if not force:
            sys.stderr.write(" !     WARNING: Potentially Destructive Action\n"
                             " !     This command will destroy app %s.\n"
                             " !     To proceed, type \"%s\"\n\n" % (app, app))
            sys.stderr.flush()
            answer = sys.stdin.readline().strip()
            if answer != app:
                raise Fail("Confirmation did not match %s. Aborted." % app)
        print("-----> Destroying %s (including all add-ons)" % app)
        shutil.rmtree(app_dir(p, app))
        return 0
    if cmd in ("apps:rename", "apps:clone"):
        if len(pos) < 2:
            raise Fail("Please specify an app to run the command on" if not pos
                       else "Please specify a new app name")
        old, new = pos[0], pos[1]
        verify_app(p, old)
        valid_new_name(new)
        if app_exists(p, new):
            raise Fail("Name is already taken")
        if cmd == "apps:rename":
            print("-----> Renaming %s to %s" % (old, new))
            os.rename(app_dir(p, old), app_dir(p, new))
        else:
            print("-----> Cloning %s to %s" % (old, new))
            shutil.copytree(app_dir(p, old), app_dir(p, new), symlinks=True)
        return 0
    return None


def cmd_git_pack(p, cmd, args):
    if not args:
        raise Fail("Please specify an app to run the command on")
    app = strip_repo_arg(args[0])
    if cmd == "git-receive-pack":
        # plugins/git/functions cmd-git-glob: a repository without refs gets created with its hook
        if not app_exists(p, app):
            create_app(p, app)
        if not os.path.isdir(os.path.join(app_dir(p, app), "refs")):
            create_hook(p, app)
    else:
        verify_app(p, app)
        if not os.path.isdir(os.path.join(app_dir(p, app), "refs")):
            raise Fail("App %s has no git repository yet" % app)
    sub = cmd.split("-", 1)[1]  # receive-pack | upload-pack
    sys.stdout.flush()
    os.execvp("git", ["git", sub, app_dir(p, app)])


def docker_cmd():
    docker = shutil.which("docker")
    if not docker:
        raise Fail("no Docker engine in this lab: there is no docker client")
    r = subprocess.run([docker, "version", "--format", "{{.Server.Version}}"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if r.returncode != 0:
        raise Fail("no Docker engine in this lab: %s" % (r.stderr.strip().splitlines() or ["docker version failed"])[-1])
    return docker


def cmd_load_image(p, args):
    pos = positionals(args)
    app = pos[0] if pos else ""
    verify_app(p, app)
    if len(pos) < 2:
        raise Fail("Please specify a docker image")
    docker = docker_cmd()
    sys.stdout.flush()
    r = subprocess.run([docker, "load"], stdin=sys.stdin.buffer, check=False)
    if r.returncode != 0:
        return r.returncode
    # plugins/git/internal-functions cmd-git-load-image: then the git-from-image trigger
    if subprocess.run([docker, "image", "inspect", pos[1]], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, check=False).returncode != 0:
        raise Fail("Loaded image tarball but the specified docker image was not found: %s" % pos[1])
    return git_from_image(p, app, pos[1])


# ---------------------------------------------------------------- the deploy path (Dokku 0.38)
# Exactly the plumbing between a push (or an image) and Dokku's core-post-extract triggers, each
# step citing the Dokku source it reproduces. The builds themselves are not reproduced: where
# Dokku would render a template with sigil, the stand-in records that the template reached
# rendering (rendered.jsonl: time, app, plugin, template, source, sha256, name).

def prop_path(p, plugin, scope, key):
    return os.path.join(p["lib"], "config", plugin, scope, key)


def prop_get(p, plugin, app, key):
    """plugins/common/properties.go PropertyGet: the file's contents, or ""."""
    try:
        with open(prop_path(p, plugin, app, key)) as f:
            return f.read().strip("\n")
    except OSError:
        return ""


def prop_set(p, plugin, app, key, value):
    path = prop_path(p, plugin, app, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(value)


def deploy_branch(p, app, default="master"):
    """plugins/git/internal-functions fn-git-computed-deploy-branch."""
    return prop_get(p, "git", app, "deploy-branch") or prop_get(p, "git", "--global", "deploy-branch") or default


def dokku_command():
    if paths()["test"]:
        return "%s %s" % (sys.executable, os.path.abspath(__file__))
    return "dokku"


def create_hook(p, app):
    """plugins/git/internal-functions fn-git-create-hook: a bare repository whose pre-receive
    hook hands the pushed refs to `dokku git-hook APP`."""
    init_bare(p, app)
    hook = os.path.join(app_dir(p, app), "hooks", "pre-receive")
    os.makedirs(os.path.dirname(hook), exist_ok=True)
    with open(hook, "w") as f:
        f.write('#!/usr/bin/env bash\nset -e\nset -o pipefail\n\ncat | DOKKU_ROOT="%s" %s git-hook "%s"\n'
                % (p["apps"], dokku_command(), app))
    os.chmod(hook, 0o755)


def git(args, cwd=None, env=None, quiet=True):
    return subprocess.run(["git"] + args, cwd=cwd, env=env, check=False, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE if quiet else None, stderr=subprocess.PIPE if quiet else None)


def cmd_git_hook(p, args):
    """plugins/git/functions cmd-git-hook: `oldrev newrev refname` lines on stdin."""
    app = args[0] if args else ""
    verify_app(p, app)
    branch = deploy_branch(p, app)
    for line in sys.stdin.read().splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        unused, newrev, refname = parts
        if refname in ("refs/heads/" + branch, "refs/tags/" + branch):
            rc = git_receive_app(p, app, newrev)
            if rc == 0:
                # plugins/git/deploy-source-set (git-push): the source-image property is cleared
                prop_set(p, "git", app, "source-image", "")
        elif not deploy_branch(p, app, ""):
            pushed = refname.replace("refs/heads/", "", 1).replace("refs/tags/", "", 1)
            print("-----> Set %s as deploy-branch" % pushed)
            prop_set(p, "git", app, "deploy-branch", pushed)
            rc = git_receive_app(p, app, newrev)
        else:
            print("-----> WARNING: deploy did not complete, you must push to %s." % branch)
            rc = 0
        if rc != 0:
            return rc
    return 0


def git_receive_app(p, app, rev):
    """plugins/git/functions git_receive_app -> git_build -> git_build_app_repo (the deploy lock
    and the GIT_REV config var are not reproduced)."""
    if not os.path.isdir(os.path.join(app_dir(p, app), "refs")):
        return 0
    import tempfile
    workdir = tempfile.mkdtemp(prefix="dokku-%d-git_build_app_repo." % os.getpid(), dir="/tmp")
    try:
        os.chmod(workdir, 0o755)
        env = dict(os.environ)
        for name in ("GIT_DIR", "GIT_QUARANTINE_PATH", "GIT_WORK_TREE"):
            env.pop(name, None)
        setup_build_dir(p, app, workdir, rev, env)
        return git_trigger_build(p, app, workdir, rev, env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def setup_build_dir(p, app, workdir, rev, env):
    """plugins/git/internal-functions fn-git-setup-build-dir-worktree (keep-git-dir false, the
    default): a worktree at REV, submodules, then every .git removed."""
    root = app_dir(p, app)
    os.rmdir(workdir)  # `git worktree add` wants to make it
    r = git(["worktree", "add", "--detach", workdir, rev], cwd=root, env=env)
    if r.returncode != 0:
        raise Fail("dokku stand-in: git worktree add failed: %s" % r.stderr.decode("utf-8", "replace").strip()[-200:])
    git(["submodule", "sync", "--recursive"], cwd=workdir, env=env)
    git(["submodule", "update", "--init", "--recursive"], cwd=workdir, env=env)
    for dirpath, dirnames, filenames in os.walk(workdir):
        for name in list(dirnames) + list(filenames):
            if name == ".git":
                target = os.path.join(dirpath, name)
                if os.path.isdir(target) and not os.path.islink(target):
                    shutil.rmtree(target)
                    dirnames.remove(name)
                else:
                    os.unlink(target)
    git(["worktree", "prune"], cwd=root, env=env)


def git_trigger_build(p, app, workdir, rev, env):
    """plugins/git/functions git_trigger_build: `plugn trigger core-post-extract` first; the
    build that would follow (post-extract, builder-detect, dokku_receive) is not reproduced."""
    rc, unused = plugn_trigger(p, "core-post-extract", [app, workdir, rev], plugn_env(p, env))
    if rc != 0:
        return rc
    print("-----> dokku stand-in: %s passed core-post-extract at %s (the build would start here)" % (app, rev[:12]))
    return 0


def plugn_env(p, env):
    env = dict(env)
    plugin_path = os.path.dirname(p["plugins"])
    env.update(PLUGIN_PATH=plugin_path, PLUGIN_ENABLED_PATH=p["plugins"],
               PLUGIN_AVAILABLE_PATH=os.path.join(plugin_path, "available"),
               DOKKU_LIB_ROOT=p["lib"], DOKKU_ROOT=p["apps"], DOCKER_BIN="docker",
               DOKKU_PID=env.get("DOKKU_PID") or str(os.getpid()))
    return env


# Dokku's own plugins with a core-post-extract trigger that touch templates, reproduced below.
CORE_POST_EXTRACT = {}


def plugn_trigger(p, hook, args, env=None, capture=False, quiet=False):
    """dokku/plugn v0.17.1 (the version Dokku 0.38 pins in contrib/dependencies.json)
    bashenv/plugn.bash trigger(): `for plugin in $PLUGIN_PATH/enabled/*` in glob order, run each
    executable `$plugin/$hook`; main() runs with `set -eo pipefail`, so the first failure ends
    the loop and plugn's exit code is that failure's.  Returns (code, what the hooks printed).

    ``env``: the hooks' environment (None: this process's, as for the user-auth hooks Dokku's
    start runs); ``capture`` collects what they print (user-auth-app's listing); ``quiet``
    skips a non-executable hook without plugn's warning (the user-auth path's way)."""
    try:
        names = set(os.listdir(p["plugins"]))
    except OSError:
        names = set()
    names |= set(CORE_POST_EXTRACT) if hook == "core-post-extract" else set()
    out = []
    for name in sorted(names):   # bash glob order under LC_ALL=C.UTF-8 (the gate's locale)
        path = os.path.join(p["plugins"], name, hook)
        if os.path.isfile(path):
            if not os.access(path, os.X_OK):
                if not quiet:
                    sys.stderr.write("Trigger '%s' is not executable, skipping plugin (%s)\n" % (hook, name))
                continue
            sys.stdout.flush()
            r = subprocess.run([path] + args, env=env, stdout=subprocess.PIPE if capture else None, check=False)
            rc = r.returncode
            if capture:
                out.append(r.stdout.decode("utf-8", "surrogateescape"))
        elif hook == "core-post-extract" and name in CORE_POST_EXTRACT:
            rc = CORE_POST_EXTRACT[name](p, args[0], args[1], env)
        else:
            continue
        if rc != 0:
            return rc, "".join(out)
    return 0, "".join(out)


def record_render(p, app, plugin, template, data, source, env):
    import hashlib
    entry = {"time": time.time(), "app": app, "plugin": plugin, "template": template, "source": source,
             "sha256": hashlib.sha256(data).hexdigest(), "name": env.get("NAME")}
    os.makedirs(os.path.dirname(p["rendered"]), exist_ok=True)
    with open(p["rendered"], "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def copy_from_image(app, image, source):
    """plugins/common/docker.go CopyFromImage: a relative path is taken from the image's working
    directory; `docker container cp CID:PATH -`; the tar entries' contents joined."""
    import io
    import tarfile
    if not source.startswith("/"):
        r = subprocess.run(["docker", "image", "inspect", "--format", "{{.Config.WorkingDir}}", image],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        workdir = r.stdout.decode().strip()
        if workdir:
            source = "%s/%s" % (workdir, source)
    r = subprocess.run(["docker", "container", "create", "--label", "com.dokku.app-name=%s" % app, image],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    cid = r.stdout.decode().strip()
    if r.returncode != 0 or not cid:
        return None
    try:
        # Dokku passes --quiet; the lab's docker client (Debian's 20.10) does not know it
        r = subprocess.run(["docker", "container", "cp", "%s:%s" % (cid, source), "-"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        if r.returncode != 0 or not r.stdout:
            return None
        out = b""
        with tarfile.open(fileobj=io.BytesIO(r.stdout), mode="r:") as archive:
            for member in archive:
                if member.isfile():
                    out += archive.extractfile(member).read()
        return out
    finally:
        subprocess.run(["docker", "container", "rm", "--force", cid], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)


def template_for(p, app, workdir, path):
    """The copy-from-image / copy-from-directory step both plugins share: from the app's
    source-image when it has one (`plugn trigger git-get-property APP source-image`), else
    `cp -f PATH` inside the source tree (links followed)."""
    image = prop_get(p, "git", app, "source-image")
    if image:
        return copy_from_image(app, image, path), "image"
    full = os.path.join(workdir, path)
    if not os.path.isfile(full):
        return None, "tree"
    with open(full, "rb") as f:
        return f.read(), "tree"


def core_nginx_vhosts(p, app, workdir, env):
    """plugins/nginx-vhosts/core-post-extract: copy the template at nginx-conf-sigil-path, then
    fn-nginx-vhosts-pre-validate-custom-template renders it with sigil right away."""
    path = prop_get(p, "nginx", app, "nginx-conf-sigil-path") or \
        prop_get(p, "nginx", "--global", "nginx-conf-sigil-path") or "nginx.conf.sigil"
    data, source = template_for(p, app, workdir, path)
    if data is not None:
        record_render(p, app, "nginx-vhosts", path, data, source, env)
    return 0


def core_scheduler_docker_local(p, app, workdir, env):
    """plugins/scheduler-docker-local/core-post-extract: copy CHECKS, then `sigil -f` it."""
    data, source = template_for(p, app, workdir, "CHECKS")
    if data is not None:
        record_render(p, app, "scheduler-docker-local", "CHECKS", data, source, env)
    return 0


CORE_POST_EXTRACT.update({"nginx-vhosts": core_nginx_vhosts, "scheduler-docker-local": core_scheduler_docker_local})


def git_from_image(p, app, image):
    """plugins/git/git-from-image (a build context whose Dockerfile is `FROM IMAGE`, the image
    pulled when absent, the source-image property set) then plugins/git/git-from-directory
    (commit it to the app's repository at the deploy branch and git_receive_app; on failure the
    branch goes back)."""
    import tempfile
    docker = docker_cmd()
    context = tempfile.mkdtemp(prefix="dokku-%d-git-from-image." % os.getpid(), dir="/tmp")
    work = tempfile.mkdtemp(prefix="dokku-%d-git-from-directory." % os.getpid(), dir="/tmp")
    try:
        print("-----> Generating build context")
        with open(os.path.join(context, "Dockerfile"), "a") as f:
            f.write("FROM %s\n" % image)
            f.write('LABEL com.dokku.docker-image-labeler/alternate-tags=[\\"%s\\"]\n' % image)
        present = subprocess.run([docker, "image", "ls", "-q", image], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, check=False).stdout.strip()
        if not present:
            print("-----> Pulling image")
            if subprocess.run([docker, "image", "pull", image], check=False).returncode != 0:
                raise Fail("Failed to pull image: %s" % image)
        prop_set(p, "git", app, "source-image", image)
        return git_from_directory(p, app, context, work)
    finally:
        shutil.rmtree(context, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def git_from_directory(p, app, source, work):
    root = app_dir(p, app)
    init_bare(p, app)
    branch = deploy_branch(p, app)
    has_code = git(["rev-parse", "--verify", "-q", branch], cwd=root).returncode == 0
    env = dict(os.environ, GIT_AUTHOR_NAME="Dokku", GIT_AUTHOR_EMAIL="automated@dokku.sh",
               GIT_COMMITTER_NAME="Dokku", GIT_COMMITTER_EMAIL="automated@dokku.sh")
    if has_code:
        git(["clone", "-q", "-b", branch, root, work], env=env)
    else:
        git(["init", "-q", work], env=env)
        git(["checkout", "-q", "-b", branch], cwd=work, env=env)
    for name in os.listdir(source):
        shutil.copy2(os.path.join(source, name), os.path.join(work, name))
    git(["add", "--all"], cwd=work, env=env)
    if has_code and git(["diff-index", "--quiet", "HEAD", "--"], cwd=work, env=env).returncode == 0:
        err("No changes detected, skipping git commit")
        return 1
    git(["commit", "-q", "-m", "Automated commit" if has_code else "Initial commit"], cwd=work, env=env)
    rev = git(["rev-parse", "HEAD"], cwd=work).stdout.decode().strip()
    # fn-git-clone / fn-git-fetch: the app's repository takes the commit without running its hook
    old = git(["rev-parse", "--verify", "-q", branch], cwd=root).stdout.decode().strip()
    git(["fetch", "-q", work, "HEAD:refs/heads/%s" % branch], cwd=root, env=env)
    rc = git_receive_app(p, app, rev)
    if rc != 0:
        if old:
            git(["update-ref", "refs/heads/%s" % branch, old], cwd=root)
        else:
            git(["update-ref", "-d", "refs/heads/%s" % branch], cwd=root)
    return rc


def plugin_dispatch(p, cmd, args):
    base = p["plugins"]
    env = os.environ
    env.setdefault("PLUGIN_ENABLED_PATH", base)
    env.setdefault("PLUGIN_AVAILABLE_PATH", os.path.join(os.path.dirname(base), "available"))
    env.setdefault("DOKKU_ROOT", p["apps"])
    if ":" in cmd:
        prefix, verb = cmd.split(":", 1)
        if prefix and "/" not in prefix and not prefix.startswith("."):
            for name in (verb, "default"):
                if "/" in name or name.startswith("."):
                    continue
                path = os.path.join(base, prefix, "subcommands", name)
                if os.path.isfile(path) and os.access(path, os.X_OK):
                    sys.stdout.flush()
                    os.execv(path, [path, cmd] + args)
    try:
        plugins = sorted(os.listdir(base))
    except OSError:
        plugins = []
    for name in plugins:
        path = os.path.join(base, name, "commands")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            rc = subprocess.call([path, cmd] + args)
            if rc != NOT_IMPLEMENTED_EXIT:
                return rc
    return None


# --- Dokku's own door: dokku@ users -----------------------------------------------------------
# What Dokku does before a command runs, for the teams plugin's user-auth triggers (dokku/dokku,
# v0.38): sshcommand's forced command runs `dokku $SSH_ORIGINAL_COMMAND` through the dokku
# user's shell (dokku/sshcommand sshcommand:201); `dokku` re-runs itself on the command split
# its own way (dokku:107-123), scans the words (parse_args, plugins/common/functions:479-524),
# shifts leading flags (dokku:71-87) and asks `plugn trigger user-auth` (dokku_auth,
# plugins/common/functions:739-760; plugn bashenv/plugn.bash:106-121 under set -e, :174).
# App listings and app checks ask `user-auth-app` (plugins/common/functions.go:8-39).

SSHCOMMAND_OPTIONS = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding"


def ssh_words(raw, outer):
    """dokku:110-121: a first word matching the (unanchored) regex git-* or git:* is re-split
    by the shell on IFS (globbing off); anything else by `xargs -n 1` (quotes honoured)."""
    first = outer[0] if outer else ""
    if re.search("git-*", first) or re.search("git:*", first):
        return [w for w in re.split("[ \t\n]+", raw) if w]
    r = subprocess.run(["xargs", "-n", "1"], input=raw.encode("utf-8", "surrogateescape"),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    lines = r.stdout.decode("utf-8", "surrogateescape").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def parse_args_env(args, env):
    """plugins/common/functions:479-524, on `env`."""
    flags = []
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--quiet":
            env["DOKKU_QUIET_OUTPUT"] = "1"
        elif arg == "--trace":
            env["DOKKU_TRACE"] = "1"
        elif arg == "--force":
            env["DOKKU_APPS_FORCE_DELETE"] = "1"
        elif arg == "--app":
            env["DOKKU_APP_NAME"] = args[index + 1] if index + 1 < len(args) else ""
            skip = True
        if skip or arg.startswith("--"):
            flags.append(arg)
    if not env.get("DOKKU_GLOBAL_FLAGS"):
        env["DOKKU_GLOBAL_FLAGS"] = " ".join(flags).strip()


def shift_leading_flags(args):
    """dokku:71-87 (the loop walks the original list while `shift` eats the live one)."""
    live = list(args)
    if not (args and args[0].startswith("--")):
        return live
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--version":
            continue
        if arg == "--app":
            if len(live) >= 2:
                del live[:2]
                skip = True
        elif arg.startswith("--"):
            if live:
                del live[0]
        else:
            break
    return live


def enabled_hooks(p, hook):
    try:
        names = sorted(os.listdir(p["plugins"]))
    except OSError:
        return []
    hooks = [os.path.join(p["plugins"], n, hook) for n in names]
    return [h for h in hooks if os.path.isfile(h)]


def dokku_auth(p, args):
    """plugins/common/functions:739-760."""
    env = os.environ
    env["SSH_USER"] = env.get("SSH_USER") or env.get("USER", "")
    env["SSH_NAME"] = env.get("NAME") or "default"
    env["DOKKU_COMMAND"] = args[0] if args else ""
    hooks = enabled_hooks(p, "user-auth")
    if not hooks or [os.path.basename(os.path.dirname(h)) for h in hooks] == ["20_events"]:
        return True
    code, unused = plugn_trigger(p, "user-auth", [env["SSH_USER"], env["SSH_NAME"]] + args, quiet=True)
    return code == 0


def filter_apps(p, apps):
    """plugins/common/functions.go:8-39: the apps user-auth-app prints."""
    if not enabled_hooks(p, "user-auth-app"):
        return apps
    env = os.environ
    user = env.get("SSH_USER") or env.get("USER", "")
    name = env.get("SSH_NAME") or env.get("NAME") or "default"
    unused, out = plugn_trigger(p, "user-auth-app", [user, name] + list(apps), capture=True, quiet=True)
    return [line for line in out.split("\n") if line]


def front_door(p, argv):
    """Dokku's start (dokku:70-127) for the stand-in: None to go on with the command, or the
    exit code."""
    env = os.environ
    args = list(argv[1:])
    parse_args_env(args, env)
    live = shift_leading_flags(args)
    raw = env.pop("SSH_ORIGINAL_COMMAND", "")
    if raw:
        words = ssh_words(raw, live)
        sys.stdout.flush()
        return subprocess.call([sys.executable, os.path.abspath(argv[0])] + words)
    if not p["test"]:
        become_dokku(live[0] if live else "")
    if not dokku_auth(p, live):
        err("Access denied")
        return 1
    return None


def cmd_ssh_keys_add(p, args):
    """`dokku ssh-keys:add NAME [FILE]` as sshcommand acl-add writes it (sshcommand:163-205)."""
    if not p["test"] and os.geteuid() != 0:
        raise Fail("This command must be run as root")     # dokku:99-105
    if len(args) < 1:
        raise Fail("Usage: ssh-keys:add NAME [KEY_FILE]")
    name = args[0]
    key = open(args[1]).read() if len(args) > 1 else sys.stdin.readline()
    key = key.strip()
    r = subprocess.run(["ssh-keygen", "-lf", "-"], input=key + "\n", text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if r.returncode != 0:
        raise Fail("Key specified in is not a valid ssh public key")
    fingerprint = r.stdout.split()[1]
    home = os.path.expanduser("~dokku") if not p["test"] else p["apps"]
    path = os.path.join(home, ".ssh", "authorized_keys")
    try:
        current = open(path).read()
    except FileNotFoundError:
        current = ""
    if 'NAME=\\"%s\\"' % name in current:
        raise Fail("Duplicate ssh key name")
    if fingerprint in current:
        raise Fail("Duplicate ssh public key specified")
    line = 'command="FINGERPRINT=%s NAME=\\"%s\\" `cat %s/.sshcommand` $SSH_ORIGINAL_COMMAND",%s %s\n' % (
        fingerprint, name, home, SSHCOMMAND_OPTIONS, key)
    with open(path, "a") as f:
        f.write(line)
    if not os.path.exists(os.path.join(home, ".sshcommand")):
        with open(os.path.join(home, ".sshcommand"), "w") as f:   # sshcommand:159
            f.write("/usr/bin/dokku\n")
    print(fingerprint)
    return 0


def run(argv):
    p = paths()
    record(p, argv)
    rc = front_door(p, argv)
    if rc is not None:
        return rc
    args = list(argv[1:])
    # Global flags Dokku accepts before the command.
    while args and args[0] in ("--quiet", "--trace", "--force", "--rm", "--rm-container"):
        if args[0] == "--force":
            args.append("--force")
        args.pop(0)
    if len(args) >= 2 and args[0] == "--app":
        args = [args[2]] + [args[1]] + args[3:] if len(args) > 2 else []
    if not args:
        print("Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]")
        print("(dokku stand-in for the dokku_ci.teams lab)")
        return 0
    cmd, rest = args[0], args[1:]
    if cmd in ("version", "--version", "-v"):
        print("dokku version %s" % VERSION)
        return 0
    if not p["test"]:
        become_dokku(cmd)
    if cmd in ("git-receive-pack", "git-upload-pack"):
        return cmd_git_pack(p, cmd, rest)
    if cmd == "ssh-keys:add":
        return cmd_ssh_keys_add(p, rest)
    if cmd.startswith("apps:"):
        rc = cmd_apps(p, cmd, rest)
        if rc is not None:
            return rc
    if cmd == "git:load-image":
        return cmd_load_image(p, rest)
    if cmd == "git:from-image":
        pos = positionals([a for a in rest if a != "--force"])
        verify_app(p, pos[0] if pos else "")
        if len(pos) < 2:
            raise Fail("Please specify a docker image")
        return git_from_image(p, pos[0], pos[1])
    if cmd == "git-hook":
        return cmd_git_hook(p, rest)
    rc = plugin_dispatch(p, cmd, rest)
    if rc is not None:
        return rc
    if cmd in APP_REQUIRED or cmd in APP_OPTIONAL:
        pos = positionals(rest)
        if pos:
            verify_app(p, pos[0])
        elif cmd in APP_REQUIRED and "--global" not in rest:
            raise Fail("Please specify an app to run the command on")
    elif cmd not in NO_APP:
        err("`%s` is not a dokku command." % cmd)
        err("See `dokku help` for a list of available commands.")
        return 1
    print("-----> dokku stand-in: %s (recorded; nothing else done)" % " ".join([cmd] + rest))
    return 0


def main():
    try:
        rc = run(sys.argv)
    except Fail as e:
        err(str(e))
        rc = e.code
    except subprocess.CalledProcessError as e:
        err("dokku stand-in: %s failed with exit code %d" % (e.cmd[0], e.returncode))
        rc = 1
    except OSError as e:
        err("dokku stand-in: %s" % e)
        rc = 1
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
