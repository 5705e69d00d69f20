# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dokku's own door: the ``user-auth``, ``user-auth-app`` and ``user-auth-service`` triggers.

Dokku asks these triggers before every command and every app or service listing
(``dokku_auth`` in ``dokku/dokku plugins/common/functions:739``, ``filterApps`` in
``plugins/common/functions.go:8``, ``auth_service_filter`` in ``dokku/dokku-postgres
common-functions:20``). The teams plugin answers them with the gate's own parser and policy
(``request.parse``, ``policy.decide``): this module only turns what Dokku hands a trigger back
into the words the gate would have decided on.

What Dokku has done before the trigger runs, and what is undone here:

- ``$SSH_ORIGINAL_COMMAND`` was split by Dokku itself (``dokku:107-123``: word splitting for
  ``git*`` commands, ``xargs -n 1`` otherwise). The trigger gets the words Dokku will run, so
  quoting cannot make the decision differ from the command.
- ``parse_args`` (``plugins/common/functions:479``) scanned *every* word: ``--app X`` anywhere
  set ``DOKKU_APP_NAME``, ``--trace`` anywhere ``DOKKU_TRACE``, and every ``--word`` went into
  ``DOKKU_GLOBAL_FLAGS``; then leading ``--`` words were shifted away (``dokku:71-87``).
  Dokku later puts ``DOKKU_APP_NAME`` in front of the arguments (``dokku:185-188``). So the
  app is put back as ``--app APP``, ``DOKKU_TRACE`` counts as ``--trace``, and every flag of
  ``DOKKU_GLOBAL_FLAGS`` the words do not account for is put back in front, where the gate
  refuses it.
- ``git-receive-pack 'APP'`` keeps its quotes: Dokku strips them itself
  (``plugins/git/functions:156,168``), and so does this module, the same way.
- ``git-hook APP`` is Dokku calling itself from the pre-receive hook of a push
  (``plugins/git/internal-functions:370``): it is decided as the push it belongs to.

Who is held to the policy: a caller with an ``authorized_keys`` identity, that is a
``FINGERPRINT`` (sshcommand's forced command sets it, and so does the gate) or a ``NAME``
other than Dokku's ``default`` (``dokku_auth`` sets ``SSH_NAME=${NAME:=default}``). Everyone
else is root at the console or the ``dokku`` user's own jobs (cron) and stays unrestricted,
as in Dokku. A restricted caller whose decision cannot be made (the state is unusable) is
refused.
"""

from __future__ import annotations

import os
import sys

from . import gateconfig
from .errors import EX_DENIED, EX_MALFORMED, EX_STATE, DokkuTeamsError, Malformed, StateError
from .names import USER

DEFAULT_NAME = "default"
GENERIC = "access control is unavailable; ask an admin to run dokku-teams doctor"
REVOKED = "this key is no longer authorised"
MAX_BYTES = 4096
MAX_WORDS = 64
_ALLOWED = frozenset(chr(c) for c in range(0x20, 0x7F)) | frozenset("\t")


class Context(object):
    """What Dokku hands a trigger: its arguments, and the variables ``dokku`` exported."""

    def __init__(self, ssh_user="", ssh_name=DEFAULT_NAME, fingerprint="", app="", trace="", flags="",
                 command=""):
        self.ssh_user = ssh_user or ""
        self.ssh_name = ssh_name or DEFAULT_NAME
        self.fingerprint = fingerprint or ""
        self.app = app or ""
        self.trace = trace or ""
        self.flags = flags or ""
        self.command = command or ""

    @property
    def restricted(self):
        """Whether the caller came through an ``authorized_keys`` line (a dokku@ or ci@ user)."""
        return bool(self.fingerprint) or self.ssh_name != DEFAULT_NAME


def empty_view(user):
    """The view of someone the state does not know: no team, no right (``unknown`` marks it)."""
    return {"version": 1, "user": user, "admin": False, "fingerprints": [], "teams": [], "owns": [],
            "member_of": [], "unknown": True}


def dokku_unquote(word):
    """The app Dokku takes from ``'APP'`` (``plugins/git/functions:156``): unescaped single
    quotes removed, ``\\'`` made a quote, one leading ``/`` removed."""
    out = []
    for index, char in enumerate(word):
        if char == "'" and (index == 0 or word[index - 1] != "\\"):
            continue
        out.append(char)
    text = "".join(out).replace("\\'", "'")
    return text[1:] if text.startswith("/") else text


def gate_words(words, context):
    """The words the gate would have decided on for the command Dokku is about to run."""
    words = list(words)
    if not words:
        raise Malformed("no command given")
    if len(" ".join(words)) > MAX_BYTES or len(words) > MAX_WORDS:
        raise Malformed("command too long")
    for word in words + [context.app]:
        if any(char not in _ALLOWED for char in word):
            raise Malformed("the command contains a character that is not accepted")
    if words[0] == "git-hook" and len(words) == 2:
        words = ["git-receive-pack", words[1]]
    if words[0] in ("git-receive-pack", "git-upload-pack") and len(words) == 2:
        app = dokku_unquote(words[1])
        if app.startswith("/"):
            raise Malformed("invalid app name")
        words = [words[0], app]
    # parse_args recorded every --word in order: the words' own come last; what comes before
    # them were leading words Dokku shifted away (and --app, when DOKKU_APP_NAME holds it).
    own = " ".join(word for word in words if word.startswith("--"))
    flags = context.flags.strip()
    if flags and own and not (flags == own or flags.endswith(" " + own)):
        stray = flags.split() or ["--"]
    else:
        stray = flags[:len(flags) - len(own)].split()
    if context.app and "--app" in stray:
        stray.remove("--app")
    if context.trace and "--trace" not in stray and "--trace" not in words:
        stray.insert(0, "--trace")
    prefix = ["--app", context.app] if context.app else []
    # The gate reads a leading "dokku" as the program's name; Dokku would run a command "dokku".
    head = ["dokku"] if words[0] == "dokku" else []
    return stray + prefix + head + words


def decide(view, words, context, programs=None, held=None):
    """The gate's decision (``policy.Decision`` or ``evaluate.Refusal``) for ``words``, the
    arguments Dokku passes ``user-auth`` after ``SSH_USER SSH_NAME``. As at the gate, nobody
    (an admin neither) gets past a command the gate cannot read."""
    from .evaluate import Refusal
    from .policy import decide as policy_decide
    from .request import parse
    try:
        request = parse(gate_words(words, context))
    except Malformed as error:
        return Refusal(error.message)
    return policy_decide(view, request, programs, held)


def visible_apps(view, apps, context):
    """The apps of ``apps`` the user may see: for a listing, those its decision shows; for any
    other command (Dokku checks an app exists through the same trigger), those a team grants."""
    shown = _listed(view, apps, context, "apps")
    if shown is not None:
        return shown
    if any(team["all_apps"] for team in view["teams"]):
        return list(apps)
    granted = set()
    for team in view["teams"]:
        granted.update(team["apps"])
    return [app for app in apps if app in granted]


def visible_services(view, kind, services, context):
    """The ``kind`` services of ``services`` the user may see (as ``visible_apps``)."""
    shown = _listed(view, services, context, "services:" + kind)
    if shown is not None:
        return shown
    out = []
    for name in services:
        for team in view["teams"]:
            if any(granted_kind in ("*", kind) and granted_name in ("*", name)
                   for granted_kind, granted_name in team["services"]):
                out.append(name)
                break
    return out


def _listed(view, names, context, output_filter):
    """All of ``names`` for an admin; for the listing ``output_filter`` names, those its
    decision shows; ``None`` when the command being run is another."""
    if view.get("admin"):
        return list(names)
    listing = _listing_decision(view, [context.command] if context.command else [], output_filter)
    if listing is None:
        return None
    if not listing.allowed:
        return []
    if listing.filter_all:
        return list(names)
    allowed = set(listing.filter_apps or ())
    return [name for name in names if name in allowed]


def _listing_decision(view, words, output_filter):
    """The decision for the listing command being run, or None when it is not that listing."""
    from .policy import decide as policy_decide
    from .request import parse
    try:
        request = parse(words)
    except Malformed:
        return None
    if request.output_filter != output_filter:
        return None
    return policy_decide(view, request)


# -- the root program ---------------------------------------------------------------------------

USAGE = ("usage: dokku-teams-auth user-auth|user-auth-app|user-auth-service|teams [--fingerprint=FP]"
         " [--app=APP] [--trace=T] [--flags=FLAGS] [--command=CMD] -- SSH_USER SSH_NAME ARGS...;"
         " dokku-teams-auth enable|sync-keys|adopted [--config=FILE]")
_OPTIONS = {"--fingerprint": "fingerprint", "--app": "app", "--trace": "trace", "--flags": "flags",
            "--command": "command", "--config": "config"}


def parse_argv(argv):
    """``(action, Context, args, config_path)`` from the program's arguments."""
    if not argv or argv[0] not in ("user-auth", "user-auth-app", "user-auth-service", "teams"):
        raise Malformed(USAGE)
    values = {}
    index = 1
    while index < len(argv) and argv[index] != "--":
        name, eq, value = argv[index].partition("=")
        if name not in _OPTIONS or not eq:
            raise Malformed(USAGE)
        values[_OPTIONS[name]] = value
        index += 1
    rest = argv[index + 1:]
    if index >= len(argv) or len(rest) < 2:
        raise Malformed(USAGE)
    config = values.pop("config", gateconfig.DEFAULT_PATH)
    context = Context(rest[0], rest[1], **values)
    return argv[0], context, rest[2:], config


class Door(object):
    """One trigger call, as root: read the caller's view, decide, audit, answer."""

    def __init__(self, config, context):
        self.config = config
        self.context = context
        self.user = context.ssh_name
        self._held = None

    def view(self):
        from . import store
        if not USER.match(self.user):
            return empty_view("unknown")
        store.check_sealed(self.config.state_dir)
        try:
            view = store.read_view(self.config.state_dir, self.user)
        except store.UnknownUser:
            return empty_view(self.user)
        if not isinstance(view.get("teams"), list) or not isinstance(view.get("admin"), bool) or \
                not isinstance(view.get("fingerprints"), list):
            raise StateError("the view of %s is not a view" % self.user)
        return view

    def held(self, app):
        if self._held is None:
            from . import newapps, store
            self._held = newapps.held_by_others(store.Store(self.config.state_dir).load(), self.user,
                                                self.config.home)
        return self._held(app)

    def key_revoked(self, view):
        """A known user's key that the state no longer lists (the gate's revocation): the
        state, not Dokku's authorized_keys, says which keys are a teams user's."""
        key = self.context.fingerprint
        return bool(key) and not view.get("unknown") and key not in view["fingerprints"]

    def audit(self, words, decision, reason, code, request=None):
        from . import audit
        apps, services, pseudo = (), (), None
        if request is not None:
            pseudo = request.command
            apps = tuple(request.apps) + tuple(request.new_apps)
            services = tuple(request.services) + tuple(request.new_services)
        entry = audit.record(self.user, self.context.fingerprint or None, None, " ".join(words), decision,
                             reason, pseudo, apps, services, code)
        entry["door"] = "dokku"
        audit.append(self.config.audit_log, entry)

    def user_auth(self, words):
        view = self.view()
        if self.key_revoked(view):
            self.audit(words, "deny", "key %s is not among the user's keys" % self.context.fingerprint, EX_DENIED)
            return EX_DENIED, REVOKED
        result = decide(view, words, self.context, self.config.programs(), self.held)
        reason = result.reason
        if result.detail:
            reason = "%s; %s" % (reason, result.detail)
        self.audit(words, result.decision, reason, result.code, result.request)
        return (0, None) if result.allowed else (result.code, result.reason)

    def teams(self, words):
        """``dokku teams:*`` run by a restricted caller: the verb, as that user."""
        from . import store, teamverbs
        code, message = self.user_auth(words)
        if code:
            return code, message, "", ""
        view = self.view()
        code, out, err = teamverbs.execute(store.Store(self.config.state_dir), self.user, list(words),
                                           bool(view["admin"]))
        return code, None, out, err


def _say(line):
    try:
        os.write(2, ("!     %s\n" % line).encode("ascii", "backslashreplace"))
    except (OSError, ValueError):
        pass


def _print(lines):
    data = "".join(line + "\n" for line in lines)
    os.write(1, data.encode("utf-8", "backslashreplace"))


def run(argv):
    """Exit code of one call; the answer goes to stdout (listings) or stderr (refusals)."""
    if argv[:1] in (["enable"], ["sync-keys"], ["adopted"]):
        # root's own steps (the role): Dokku's ssh-keys users and the state, see dokkukeys
        from . import dokkukeys
        config = argv[1].partition("=")[2] if argv[1:2] and argv[1].startswith("--config=") else None
        if len(argv) > (2 if config else 1):
            raise Malformed(USAGE)
        code, line = dokkukeys.main(argv[0], gateconfig.load(config or gateconfig.DEFAULT_PATH))
        _print([line])
        return code
    action, context, args, config_path = parse_argv(argv)
    if not context.restricted:
        if action == "teams":
            from . import store, teamverbs
            config = gateconfig.load(config_path)
            code, out, err = teamverbs.execute(store.Store(config.state_dir), "root", list(args), admin=True)
            _write(out, err)
            return code
        if action == "user-auth-app":
            _print(args)
        elif action == "user-auth-service":
            _print(args[1:])
        return 0
    try:
        config = gateconfig.load(config_path)
        door = Door(config, context)
        if action == "user-auth":
            code, message = door.user_auth(args)
            if message:
                _say(message)
            return code
        if action == "teams":
            code, message, out, err = door.teams(args)
            if message:
                _say(message)
            _write(out, err)
            return code
        view = door.view()
        if door.key_revoked(view):
            return 0
        if action == "user-auth-app":
            _print(visible_apps(view, args, context))
        else:
            if args:
                _print(visible_services(view, args[0], args[1:], context))
        return 0
    except DokkuTeamsError:
        # The state, the config or the audit log cannot be trusted: refuse, show nothing.
        if action in ("user-auth", "teams"):
            _say(GENERIC)
            return EX_STATE
        return 0


def _write(out, err):
    if out:
        os.write(1, out.encode("utf-8", "backslashreplace"))
    if err:
        os.write(2, err.encode("utf-8", "backslashreplace"))


def main(argv=None):
    try:
        code = run(sys.argv[1:] if argv is None else argv)
    except Malformed as error:
        _say(error.message)
        code = EX_MALFORMED
    except BaseException:
        _say(GENERIC)
        code = EX_STATE
    os._exit(code)
