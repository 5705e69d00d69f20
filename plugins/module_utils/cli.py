# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``dokku-teams``: the admin CLI (root on the host, or any user on a checkout's state dir).

Speaks Dokku Pro's ``teams:*`` verbs, plus ``user:*``, ``check``, ``audit``, ``doctor``,
``import``/``export``. Output follows Dokku's style (``=====>`` headers, ``!     `` errors);
bad input gets one line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys

from . import state as statelib
from .errors import EX_MALFORMED, EX_STATE, DokkuTeamsError, Invalid, Malformed, StateError
from .gateconfig import DEFAULT_PATH
from .names import check_user, show

DEFAULT_CONFIG = DEFAULT_PATH

HELP = """Usage: dokku-teams [--state-dir DIR] [--config FILE] COMMAND [ARGS...]

Teams (Dokku Pro's verbs; plural spellings such as teams:members-add work too):
  teams:create TEAM                          teams:destroy TEAM
  teams:list [--format json]                 teams:team-report TEAM [--format json]
  teams:member-add TEAM USER...              teams:member-remove TEAM USER...
  teams:owner-add TEAM USER...               teams:owner-remove TEAM USER...
  teams:command-add TEAM COMMAND...          teams:command-remove TEAM COMMAND...
  teams:app-add TEAM APP...                  teams:app-remove TEAM APP...
  teams:service-add TEAM TYPE NAME           teams:service-remove TEAM TYPE NAME
  teams:whoami [--FIELD] [--format json]     teams:whois USER [--FIELD] [--format json]
  teams:team-report TEAM [--team-FIELD]      (one field flag prints that value; see README)
  teams:destroy TEAM [--force]               (asks for the team's name on a terminal)
  who-can APP [COMMAND] [--format json]      every user who may act on APP (run COMMAND on it),
                                             and through which team (also teams:who-can)
Users:
  user:add USER [--from PATTERN]... [KEY...]   (no KEY: one key a line on stdin)
  user:remove USER          user:list [--format json]
  user:key-add USER [KEY]   user:key-remove USER FINGERPRINT
Policy:
  check --user USER [--format json] -- 'COMMAND'   the gate's decision; runs nothing
                                                   (exit 0 allow, 77 deny, 64 malformed, 75 state)
  audit [--user U] [--app A] [--team T] [--decision allow|deny|malformed|error]
        [--since TIME|AGE] [--tail N] [--format json]
                            the audit log and its rotated copies, oldest first; the human
                            lines escape every control character
  doctor                    what is wrong with the state, views and audit log
  import FILE|-             replace the policy with a document
  export                    print the policy document
  init                      create an empty state
  recover [--format json]   repair a valid state's owner and mode, or set an unreadable one aside
                            and start empty (site.yml rebuilds it); json: outcome, reason, kept
Deploy guard:
  app:trust APP             stop checking APP's deploys (audited)
  app:untrust APP           check them again (audited)
  app:trusted [--format json]
"""


class Usage(Malformed):
    pass


class Options(object):
    """Options of one verb, parsed by hand so every error is a single line."""

    def __init__(self, args, valued=(), switches=(), repeat=()):
        self.values = {}
        self.repeat = dict((name, []) for name in repeat)
        self.switches = set()
        self.positionals = []
        index = 0
        rest = False
        while index < len(args):
            arg = args[index]
            index += 1
            if rest or not arg.startswith("--") or arg == "-":
                self.positionals.append(arg)
                continue
            if arg == "--":
                rest = True
                continue
            name, eq, value = arg.partition("=")
            if name in switches and not eq:
                self.switches.add(name)
                continue
            if name not in valued and name not in repeat:
                raise Usage("unknown option %s" % show(name))
            if not eq:
                if index >= len(args):
                    raise Usage("option %s needs a value" % name)
                value = args[index]
                index += 1
            if name in repeat:
                self.repeat[name].append(value)
            else:
                self.values[name] = value

    def json(self):
        value = self.values.get("--format", "stdout")
        if value not in ("json", "stdout", "text"):
            raise Usage("--format takes json or stdout")
        return value == "json"


def _store(ctx):
    from .store import Store
    return Store(ctx["state_dir"])


def _config(ctx):
    """The host config, read once per run (the defaults when there is none)."""
    if ctx.get("loaded") is None:
        from . import gateconfig
        ctx["loaded"] = gateconfig.load(ctx["config"]) if ctx["config"] else gateconfig.GateConfig()
    return ctx["loaded"]


def _sync_keys(ctx, state):
    """After a change to users or keys: regenerate authorized_keys where the host has one."""
    if not ctx["config"]:
        return
    from . import hostsync
    hostsync.write_authorized_keys(_config(ctx), state)


def _out(text):
    sys.stdout.write(text)


def cmd_init(ctx, args):
    Options(args)
    store = _store(ctx)
    store.init()
    _out("-----> State ready in %s\n" % ctx["state_dir"])
    return 0


def cmd_teams(ctx, verb, args):
    from . import teamverbs
    # teams:destroy asks for the team's name on a terminal (dokku teams:destroy at the console
    # reaches here through sudo with the terminal); elsewhere it needs --force.
    confirm = teamverbs.terminal_confirm if sys.stdin is not None and sys.stdin.isatty() else None
    code, out, err = teamverbs.execute(_store(ctx), "root", [verb] + args, admin=True, confirm=confirm)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


def _read_keys(opts):
    keys = opts.positionals[1:]
    if not keys:
        if sys.stdin is None or sys.stdin.isatty():
            raise Usage("give the public key as an argument or on stdin")
        keys = [line.rstrip("\n") for line in sys.stdin.read().splitlines() if line.strip()]
    if not keys:
        raise Usage("no public key given")
    return keys


def cmd_user(ctx, verb, args):
    store = _store(ctx)
    if verb == "list":
        opts = Options(args, valued=("--format",))
        current = store.load()
        users = sorted(current["users"])
        if opts.json():
            _out(json.dumps([{"user": name, "keys": len(current["users"][name]["keys"]),
                              "from": current["users"][name]["from"]} for name in users]) + "\n")
        else:
            _out("=====> Users\n" + "".join(name + "\n" for name in users))
        return 0
    opts = Options(args, repeat=("--from",))
    if not opts.positionals:
        raise Usage("usage: dokku-teams user:%s USER ..." % verb)
    user = check_user(opts.positionals[0])
    with store.transaction() as tx:
        if verb == "add":
            keys = _read_keys(opts)
            if user in tx.state["users"]:
                raise Invalid("user %s already exists (use user:key-add to add a key)" % user)
            tx.state = statelib.add_user(tx.state, user, keys, opts.repeat["--from"])
            message = "-----> User %s added with %d key(s)" % (user, len(keys))
        elif verb == "remove":
            if len(opts.positionals) != 1:
                raise Usage("usage: dokku-teams user:remove USER")
            tx.state = statelib.remove_user(tx.state, user)
            message = "-----> User %s removed" % user
        elif verb == "key-add":
            keys = _read_keys(opts)
            for key in keys:
                tx.state = statelib.add_key(tx.state, user, key)
            message = "-----> Added %d key(s) to %s" % (len(keys), user)
        elif verb == "key-remove":
            if len(opts.positionals) != 2:
                raise Usage("usage: dokku-teams user:key-remove USER FINGERPRINT")
            tx.state = statelib.remove_key(tx.state, user, opts.positionals[1])
            message = "-----> Key removed from %s" % user
        else:
            raise Usage("unknown command user:%s" % show(verb))
        new_state = tx.state
    _sync_keys(ctx, new_state)
    _out(message + "\n")
    return 0


def cmd_check(ctx, args):
    from .evaluate import check
    opts = Options(args, valued=("--user", "--format"))
    if "--user" not in opts.values:
        raise Usage("usage: dokku-teams check --user USER [--format json] -- 'COMMAND'")
    as_json = opts.json()
    user = check_user(opts.values["--user"])
    config = (lambda: _config(ctx)) if ctx["config"] else None
    result, code = check(_store(ctx), user, " ".join(opts.positionals), config)
    _print_decision(result, as_json)
    return code


def _print_decision(result, as_json):
    if as_json:
        _out(json.dumps(result, sort_keys=True) + "\n")
        return
    rows = [("Decision", result["decision"]), ("Reason", result["reason"])]
    if result.get("detail"):
        rows.append(("Why", result["detail"]))   # the real reason, which the user is not told
    rows += [("Command", result["command"] or ""), ("Apps", " ".join(result["apps"])),
             ("Services", " ".join("%s:%s" % (s["type"], s["name"]) for s in result["services"])),
             ("Team", result.get("team") or ""), ("Argv", " ".join(result["argv"] or []))]
    _out("=====> Check\n" + "".join("       %-10s%s\n" % (label + ":", value) for label, value in rows))


AUDIT_USAGE = ("usage: dokku-teams audit [--user U] [--app A] [--team T] [--decision D] [--since TIME]"
               " [--tail N] [--format json]")


def cmd_audit(ctx, args):
    import collections
    from . import audit
    opts = Options(args, valued=("--user", "--app", "--team", "--decision", "--since", "--tail", "--format",
                                 "--log"))
    as_json = opts.json()
    if opts.positionals:
        raise Usage(AUDIT_USAGE)
    path = opts.values.get("--log") or _config(ctx).audit_log
    decision = opts.values.get("--decision")
    if decision is not None and decision not in audit.DECISIONS:
        raise Usage("--decision takes allow, deny, malformed or error")
    since = opts.values.get("--since")
    if since is not None:
        try:
            since = audit.parse_since(since)
        except ValueError:
            raise Usage("--since takes a UTC time (2026-12-02, 2026-12-02T15:00) or an age (90s, 30m, 12h, 7d)")
    tail = opts.values.get("--tail")
    if tail is not None:
        if not tail.isdigit() or len(tail) > 9:
            raise Usage("--tail takes a number of lines")
        tail = int(tail)
    records = audit.read(path, user=opts.values.get("--user"), app=opts.values.get("--app"),
                         decision=decision, team=opts.values.get("--team"), since=since)
    if tail is not None:
        records = collections.deque(records, maxlen=tail)
    for record in records:
        if as_json:
            _out(json.dumps(record, sort_keys=True) + "\n")
        else:
            _out(audit.human_line(record) + "\n")
    return 0


def missing_programs(config, state):
    """One line for each program a grant needs that is not installed (docker-over-ssh is
    installed only on request; the gate answers 69 for it)."""
    from fnmatch import fnmatchcase
    programs = (("docker:pull", config.docker_over_ssh), ("docker:tag", config.docker),
                ("docker:version", config.docker))
    needs = {}
    for team, record in sorted(state["teams"].items()):
        for command in record["commands"]:
            paths = [path for pseudo, path in programs if fnmatchcase(pseudo, command)]
            if "*" in command or not paths:
                paths.append(config.dokku)
            for path in paths:
                needs.setdefault(path, []).append("%s (%s)" % (command, team))
    return ["%s is not installed (or not executable), and the grants %s need it"
            % (path, ", ".join(sorted(set(grants))))
            for path, grants in sorted(needs.items()) if not os.access(path, os.X_OK)]


def cmd_doctor(ctx, args):
    Options(args)
    store = _store(ctx)
    problems = list(store.doctor())
    warnings = []
    if ctx["config"]:
        from . import hostsync
        try:
            current = store.load()
        except StateError:
            current = None      # already reported above; authorized_keys cannot be compared
        problems.extend(hostsync.doctor(_config(ctx), current))
        if current is not None:
            # A grant whose program is absent refuses that command alone (exit 69): the state is
            # sound, so it is a warning, not a reason to call the state untrustworthy.
            warnings = list(missing_programs(_config(ctx), current))
    for warning in warnings:
        sys.stderr.write("!     warning: %s\n" % warning)
    if not problems:
        _out("-----> No problems found%s\n" % (" (%d warning(s) above)" % len(warnings) if warnings else ""))
        return 0
    for problem in problems:
        if problem.startswith("state: ") and ("writable (mode" in problem or "is owned by uid" in problem):
            problem += ("; fix: chown root:root and chmod 0600 the file, or run dokku-teams recover (it repairs"
                        " the owner and mode of a valid state)")
        sys.stderr.write("!     %s\n" % problem)
    return EX_STATE


def _repair_file(path):
    """Give a regular ``path`` (never through a link) to this user with mode 0600; the mode and
    owner it had when they were wrong, else ``None``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        import stat
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (info.st_uid == os.geteuid() and not info.st_mode & 0o077):
            return None
        os.fchown(fd, os.geteuid(), os.getegid())
        os.fchmod(fd, 0o600)
        return "uid %d, mode %04o" % (info.st_uid, stat.S_IMODE(info.st_mode))
    finally:
        os.close(fd)


def cmd_recover(ctx, args):
    """Repair a state whose only fault is its owner or mode; set aside one that cannot be read
    and start an empty one (the role then rebuilds users and teams from inventory). A usable
    state is left alone (and resealed if needed). ``--format json``: one object, the outcome
    (``usable``, ``repaired`` or ``rebuilt``), the reason and where the old file was kept."""
    opts = Options(args, valued=("--format",))
    as_json = opts.json()
    from .store import Store
    outcome = _recover(Store(ctx["state_dir"]))
    if as_json:
        _out(json.dumps(outcome, sort_keys=True) + "\n")
    elif outcome["outcome"] == "usable":
        _out("-----> The state is usable: nothing to recover\n")
    elif outcome["outcome"] == "repaired":
        _out("-----> Repaired the state's owner and mode (it had %s; now uid %d, mode 0600): %s\n"
             % (outcome["was"], os.geteuid(), outcome["reason"]))
    else:
        _out("-----> Rebuilt an empty state: %s\n" % outcome["reason"])
        if outcome["kept"]:
            _out("       The unusable file is kept as %s; once fixed by hand, bring it back with\n"
                 "       dokku-teams import %s\n" % (outcome["kept"], outcome["kept"]))
        _out("       Users and teams come back from inventory; teams made over SSH (dokku@app--APP) and\n"
             "       members owners added to teams whose inventory entry omits members do not.\n")
    return 0


def _recover(store):
    """What ``recover`` did: ``{"outcome", "reason", "was", "kept"}``."""
    import time
    import stat
    done = {"outcome": "usable", "reason": None, "was": None, "kept": None}
    try:
        store.load()
    except StateError as error:
        done["reason"] = error.message
    else:
        with store.transaction():
            pass    # reseals and repairs views if a writer was interrupted
        return done
    directory = store.state_dir
    from .fsutil import DIRECTORY, check_trusted
    try:
        # Its mode is what recover repairs next, so only the type and the owner must hold.
        check_trusted(os.lstat(directory), "directory %s" % directory, kind=DIRECTORY, writable_ok=True)
    except StateError as error:
        raise StateError("%s: fix it by hand (recover never follows a link)" % error.message)
    os.chmod(directory, 0o700)
    views = os.path.join(directory, "views")
    if os.path.isdir(views) and not os.path.islink(views) and os.lstat(views).st_uid == os.geteuid():
        os.chmod(views, 0o700)      # its files are rewritten from the new state by init
    # A valid policy in a file with the wrong mode or owner (0660 after a copy, say) is
    # repaired, never thrown away: setting it aside would refuse every key.
    done["was"] = _repair_file(store.state_path)
    if done["was"] is not None:
        try:
            store.load()
        except StateError:
            pass
        else:
            with store.transaction():
                pass    # reseals it: the seal vouches for the file as it is now
            done["outcome"] = "repaired"
            return done
    if os.path.lexists(store.state_path):
        done["kept"] = "%s.broken-%s" % (store.state_path, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        os.rename(store.state_path, done["kept"])   # rename moves a symlink itself, never its target
    store.init()
    done["outcome"] = "rebuilt"
    return done


def cmd_import(ctx, args):
    opts = Options(args)
    if len(opts.positionals) != 1:
        raise Usage("usage: dokku-teams import FILE|-")
    source = opts.positionals[0]
    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
        document = json.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        raise Invalid("cannot read %s: %s" % (show(source), getattr(error, "strerror", None) or error))
    except ValueError as error:
        raise Invalid("the document is not valid JSON: %s" % error)
    imported = statelib.import_document(document)
    with _store(ctx).transaction() as tx:
        tx.state = dict(imported, serial=tx.state["serial"])
        new_state = tx.state
    _sync_keys(ctx, new_state)
    _out("-----> Imported %d user(s) and %d team(s)\n" % (len(new_state["users"]), len(new_state["teams"])))
    return 0


TEAM_FIELDS = ("owners", "members", "commands", "apps", "services")


def ordered_document(document):
    """The policy document in the SPEC's order (version, users, teams; a team's fields as listed)."""
    users = dict((name, {"keys": info["keys"], "from": info["from"]}) for name, info in sorted(document["users"].items()))
    teams = dict((name, dict((field, [dict(type=s["type"], name=s["name"]) for s in info[field]]
                              if field == "services" else info[field]) for field in TEAM_FIELDS))
                 for name, info in sorted(document["teams"].items()))
    return {"version": document["version"], "users": users, "teams": teams}


def cmd_export(ctx, args):
    Options(args)
    _out(json.dumps(ordered_document(statelib.export(_store(ctx).load())), indent=2) + "\n")
    return 0


def cmd_app(ctx, verb, args):
    from . import trustverbs
    opts = Options(args, valued=("--log", "--format"))
    rest = opts.positionals + (["--format", opts.values["--format"]] if "--format" in opts.values else [])
    log = opts.values.get("--log") or _config(ctx).audit_log
    code, out = trustverbs.execute(ctx["state_dir"], log, verb, rest, os.environ.get("SUDO_USER") or "root",
                                   os.environ)
    _out(out)
    return code


def _help_for(command):
    """The lines of HELP about ``command`` (``teams:help``: the teams section)."""
    if command in ("teams:help", "team:help"):
        return "Teams" + HELP.split("\nTeams", 1)[1].split("\nUsers:", 1)[0] + "\n"
    out, keep = [], False
    for line in HELP.splitlines():
        if keep and line.startswith(" " * 20):
            out.append(line)
            continue
        first = line.split()[0] if line.split() else ""
        keep = command in first.split("|")      # the line that starts with the command
        if keep:
            out.append(line)
    return "\n".join(out) + "\n" if out else HELP


def _dispatch(ctx, command, args):
    if command in ("help", "--help", "-h"):
        _out(HELP)
        return 0
    head = args[:args.index("--")] if "--" in args else args
    if command in ("teams:help", "team:help") or "--help" in head or "-h" in head:
        _out(_help_for(command))
        return 0
    prefix, colon, verb = command.partition(":")
    if colon and prefix in ("teams", "team"):
        return cmd_teams(ctx, command, args)
    if command == "who-can":
        return cmd_teams(ctx, "teams:who-can", args)
    if colon and prefix in ("user", "users"):
        return cmd_user(ctx, verb, args)
    if colon and prefix == "app":
        return cmd_app(ctx, verb, args)
    handler = {"check": cmd_check, "audit": cmd_audit, "doctor": cmd_doctor, "import": cmd_import,
               "export": cmd_export, "init": cmd_init, "recover": cmd_recover}.get(command)
    if handler is None:
        raise Usage("unknown command %s (see dokku-teams help)" % show(command))
    return handler(ctx, args)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    ctx = {"state_dir": None, "config": None}
    try:
        while argv and argv[0] in ("--state-dir", "--config") or (argv and argv[0].startswith(("--state-dir=", "--config="))):
            name, eq, value = argv.pop(0).partition("=")
            if not eq:
                if not argv:
                    raise Usage("%s needs a value" % name)
                value = argv.pop(0)
            ctx[name[2:].replace("-", "_")] = value
        if ctx["config"] is None and ctx["state_dir"] is None and os.path.exists(DEFAULT_CONFIG):
            ctx["config"] = DEFAULT_CONFIG
        if ctx["state_dir"] is None:
            ctx["state_dir"] = _config(ctx).state_dir
        if not argv:
            _out(HELP)
            return EX_MALFORMED
        return _dispatch(ctx, argv[0], argv[1:])
    except DokkuTeamsError as error:
        sys.stderr.write("!     %s\n" % error.message)
        return error.code
    except KeyboardInterrupt:
        sys.stderr.write("!     interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:
        # A write that failed (a full disk, say) leaves the old state in place: say so.
        where = " (%s)" % error.filename if getattr(error, "filename", None) else ""
        sys.stderr.write("!     nothing changed: %s%s\n" % (error.strerror or error, where))
        return EX_STATE
