"""Property-based fuzzing of the command parser and the decision (``evaluate``), with an
oracle written independently of policy.py / request.py / commands.py.

Generated: random compiled views (1-4 teams: literal commands, globs, host escapes, app lists
or ``*``, services; sometimes an admin, sometimes owner-only teams) and commands — shaped ones
(``[dokku] [--app A] CMD [options] [APP] [SERVICE APP] [args]``, git, docker, docker-over-ssh,
teams verbs, with quoting) and raw junk (any text, any bytes, metacharacters, long inputs).

Properties, for every pair:
- ``evaluate`` returns (never raises), with code 0/64/77, a non-empty one-line reason, an argv
  list of strings only when allowed (absolute program path first), and the same answer twice;
- a non-admin allow of a Dokku command needs ONE team of the view that (a) grants the command
  by the oracle's own glob (literal only for the SPEC's host escapes), (b) holds every app
  token of the command (the generator puts app-pool names only where they name an app) and
  (c) every service token; and the command is never admin-only by the SPEC's list, never
  carries --global/--all/--all-apps, and never starts with an option;
- a non-admin allow of a teams verb is an open verb, or an owner verb on a team the user owns.
"""
import re

from module_utils.evaluate import evaluate  # noqa: F401  (sys.path set by the caller)
from module_utils import commands as _commands
from module_utils.cmdline import split_command

APPS = ("web", "api", "shop", "blog-2", "x.y")
SERVICES = ("pg1", "cache", "main_db")
TYPES = ("postgres", "redis", "mysql")
USERS = ("alice", "bob")
TEAMS = ("web", "ops", "t-1", "dokku@admin")
CORE = sorted(_commands.core_commands())
DATASTORE = sorted("%s:%s" % (t, v) for t in TYPES for v in _commands.datastore_verbs())
EXTRA = ("git-receive-pack", "git-upload-pack", "docker:pull", "docker:tag", "docker:version",
         "not-a-command", "foo:bar", "apps:list", "version", "help", "run", "enter", "logs")
GLOBS = ("*", "git-*", "apps:*", "config:*", "ps:*", "docker-options:*", "storage:*", "*:report",
         "postgres:*", "*-global", "events*", "plugin:*", "git:*", "*:*", "c*g:s*")
# Words that are never app or service names (disjoint from the pools above).
FILLER = ("KEY", "KEY=VAL", "A=1", "'hello world'", "\"GREETING=hi there\"", "2", "100", "web=1",
          "--format", "json", "--format=json", "-n", "-t", "--parallel", "--no-restart", "--force",
          "--global", "--all", "--all-apps", "--trace", "--help", "--", "--app", "-", "''", "X-Y",
          "/etc/passwd", "registry.example.com/a/b:1",
          "TAG_1", "bash", "-c", "--quiet", "--skip-deploy", "--detach",
          # values of the typed channels (issue 11): the oracle's own VALUE_RULES judge them
          "restart-policy", "on-failure:5", "'on-failure:1 --privileged'", "PATH=/x", "BASH_ENV=/x", "NODE_ENV=x",
          "build-dir", "sub/dir", "../..", "wait-to-retire", "'x[$(id)]'", "--process-type", "'../x'",
          "'--label=x'", "--label-file=/x", "'.*|e id;#'", "www.example.com")

# ---- the oracle: the SPEC's words, not the code's tables

ESCAPES = frozenset(("storage:mount", "storage:create", "storage:exec", "storage:ensure-directory",
                     "git:from-archive", "git:sync"))
ADMIN_EXACT = frozenset(("git:allow-host", "git:auth", "network:create", "network:destroy", "network:exists",
                         "network:info", "network:list", "network:rebuildall", "shell", "trace:on",
                         "git:generate-deploy-key", "git:public-key"))
ADMIN_OPTS = frozenset(("--global", "--all", "--all-apps"))
TOUCH_NOTHING = frozenset(("apps:list", "version", "help", "docker:version"))
PASSTHROUGH = frozenset(("run", "run:detached", "enter"))
VALUE_OPTIONS = frozenset(("-e", "--env", "-env", "--ttl-seconds", "--container-id"))


def _through_app(words):
    """``words`` up to and including the app of a run/enter command line."""
    start = 2 if words[:1] == ["dokku"] else 1
    if words[start - 1:start] == ["--app"]:
        return words[:start + 2]    # [dokku] --app APP CMD ...: everything after CMD is the command line
    index = start
    while index < len(words):
        word = words[index]
        if word in VALUE_OPTIONS:
            index += 2
            continue
        if word.startswith("-") and word != "-":
            index += 1
            continue
        return words[:index + 1]
    return words


OPEN_VERBS = frozenset(("whoami", "list", "team-report", "report", "whois"))
OWNER_VERBS = frozenset(("member-add", "member-remove", "owner-add", "owner-remove", "members-add",
                         "members-remove", "owners-add", "owners-remove", "destroy"))


def oracle_escape(command):
    # docker-options:report/list print the app's own options (docker-options/report.go): no escape.
    return (command in ("docker-options:add", "docker-options:remove", "docker-options:clear") or command in ESCAPES
            or (command.partition(":")[0] in TYPES and command.endswith(":backup-schedule")))


def oracle_admin_only(command):
    return (command in ADMIN_EXACT or command.startswith(("events", "plugin:", "ssh-keys:", "trace:",
                                                          "logs:vector-"))
            or (command.startswith("domains:") and command.endswith("-global")))


# The oracle's own small model of typed values (issue 11), written from Dokku's source and not
# from valuetypes.py: for these commands the word after PROPERTY (or after the option, or every
# KEY=VALUE) must match, or the command must not be allowed.
_INT = re.compile(r"[0-9]{1,9}\Z")
_RELPATH = re.compile(r"(?!/|-)(?!.*(^|/)\.\.?(/|$))[A-Za-z0-9._/-]{1,255}\Z")
VALUE_RULES = {
    ("ps:set", "restart-policy"): re.compile(r"(no|always|unless-stopped|on-failure(:[0-9]{1,4})?)\Z"),  # ps/triggers.go:57
    ("checks:set", "wait-to-retire"): _INT,                 # scheduler-docker-local/internal-functions:250-262
    ("builder:set", "build-dir"): _RELPATH,                 # builder/triggers.go:70-100
    ("resource:limit", "--process-type"): re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}\Z"),  # resource/resource.go:77-79
}
_DOMAIN = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
# Config keys Dokku's host shell reads after eval config_export (builder-*/builder-build): a sample.
_HOST_KEYS = re.compile(r"(PATH|HOME|IFS|ENV|PS4|SHELLOPTS|IMAGE|APP|USER|BASH.*|DOKKU_.*|DOCKER_.*|LD_.*|GIT_(?!REV\Z).*)\Z")


def oracle_values_ok(command, words):
    """Whether the typed words of an allowed command pass the oracle's own rules."""
    for index, word in enumerate(words[:-1]):
        rule = VALUE_RULES.get((command, word))
        if rule is not None and not rule.match(words[index + 1]):
            return False
    if command in ("domains:add", "domains:set", "domains:remove"):
        return all(_DOMAIN.match(word) for word in words[2:])
    if command == "config:set":
        for word in words[2:]:
            key, eq, _value = word.partition("=")
            if eq and not word.startswith("-") and (not re.match(r"[A-Z][A-Z0-9_]*\Z", key) or _HOST_KEYS.match(key)):
                return False
    if command not in PASSTHROUGH:
        # parse_args reads --trace/--app anywhere; scheduler-run copies --label* words (common/functions:479-525)
        if any(w.startswith("--label") or w.partition("=")[0] in ("--trace", "--app") for w in words[1:]):
            return False
    return True


def oracle_glob(pattern, text):
    return re.match("".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\Z", text, re.S) is not None


def oracle_team_grants(team, command, apps, services):
    escape = oracle_escape(command)
    if not any(p == command or (not escape and "*" in p and oracle_glob(p, command)) for p in team["commands"]):
        return False
    if not all(team["all_apps"] or a in team["apps"] for a in apps):
        return False
    for kind, name in services:
        if not any(k in ("*", kind) and n in ("*", name) for k, n in team["services"]):
            return False
    return True


def tokens_of(words, command):
    """App and service tokens of a command, read from the generator's pools."""
    apps, services = [], []
    kind = command.partition(":")[0]
    for index, word in enumerate(words):
        bare = word.strip("'").lstrip("/")
        m = re.match(r"^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?dokku/([^:]+):", bare)
        if m and m.group(1) in APPS:
            apps.append(m.group(1))
        elif bare in APPS:
            apps.append(bare)
        elif word in SERVICES and kind in TYPES and command != kind + ":list":
            services.append((kind, word))
    return apps, services


def check(view, raw):
    """Run evaluate twice and check every property; returns the decision."""
    d1 = evaluate(view, raw)
    d2 = evaluate(view, raw)
    assert (d1.allowed, d1.code, d1.reason, d1.argv) == (d2.allowed, d2.code, d2.reason, d2.argv), "not deterministic"
    assert d1.code in (0, 64, 77), d1.code
    assert isinstance(d1.reason, str) and d1.reason and "\n" not in d1.reason, repr(d1.reason)
    assert d1.allowed == (d1.code == 0)
    if not d1.allowed:
        assert d1.argv is None
        return d1
    request = d1.request
    if view["admin"]:
        return d1
    if request.program == "teams":
        verb = request.command.partition(":")[2]
        team = request.teams_args[0] if request.teams_args else None
        assert verb in OPEN_VERBS or (verb in OWNER_VERBS and team in view["owns"] and team != "dokku@admin"), \
            "teams verb allowed: %r" % raw
        return d1
    argv = d1.argv
    assert isinstance(argv, list) and argv and argv[0].startswith("/") and all(isinstance(w, str) for w in argv), argv
    command = request.command
    assert not oracle_admin_only(command), "admin-only %s allowed for a non-admin: %r" % (command, raw)
    words = split_command(raw)
    checked = words
    if command in PASSTHROUGH:
        # Known deviation (reported): after the app of run/enter the words are the container's
        # command line and pass through, --global/--all included; SPEC 4 says "anywhere".
        # The app is the first word after the command that is neither an option nor an option's
        # value (Dokku's synopses: run [-e|--env KEY=VALUE] [--no-tty] [--ttl-seconds N] <app>;
        # enter <app> ...), whatever its name: apps outside the generator's pool count too.
        checked = _through_app(words)
    assert not any(w.partition("=")[0] in ADMIN_OPTS for w in checked), "admin option allowed: %r" % raw
    plain = words[1:] if words[:1] == ["dokku"] else words
    if plain[:1] == ["--app"] and len(plain) >= 3:
        plain = [plain[2], plain[1]] + plain[3:]
    assert oracle_values_ok(command, plain), "a value failing its type allowed: %r" % raw
    # what the command touches, by the generator's pools (new apps need no grant)
    apps, services = tokens_of(words, command)
    if command in TOUCH_NOTHING or (command.partition(":")[0] in TYPES and command.endswith(":list")):
        apps, services = [], []         # listings are filtered by the gate; version/help touch nothing
    elif command == "apps:create":
        apps = []
    elif command in ("apps:rename", "apps:clone"):
        apps = apps[:1]
    assert any(oracle_team_grants(team, command, apps, services) for team in view["teams"]), \
        "no single team grants %s on %s %s: %r view=%r" % (command, apps, services, raw, view)
    return d1


# ---- generators (hypothesis)

def strategies():
    from hypothesis import strategies as st

    app_list = st.lists(st.sampled_from(APPS), max_size=3, unique=True)
    command_pat = st.one_of(st.sampled_from(CORE + DATASTORE + list(EXTRA)), st.sampled_from(GLOBS))
    service = st.tuples(st.sampled_from(TYPES + ("*",)), st.sampled_from(SERVICES + ("*",)))
    team = st.fixed_dictionaries({
        "team": st.sampled_from(TEAMS[:3]),
        "commands": st.lists(command_pat, max_size=5, unique=True).map(sorted),
        "apps": app_list.map(sorted),
        "all_apps": st.booleans(),
        "services": st.lists(service, max_size=2, unique=True).map(lambda s: sorted(list(x) for x in s)),
    })

    @st.composite
    def view(draw):
        teams = draw(st.lists(team, min_size=0, max_size=4))
        return {"version": 1, "user": "alice", "admin": draw(st.integers(0, 30)) == 0,
                "fingerprints": ["SHA256:x"], "teams": teams,
                "owns": draw(st.lists(st.sampled_from(TEAMS), max_size=2, unique=True)),
                "member_of": [t["team"] for t in teams]}

    def q(word, draw):
        style = draw(st.integers(0, 9))
        if style == 0:
            return "'%s'" % word.replace("'", "")
        if style == 1:
            return '"%s"' % word.replace('"', "").replace("$", "").replace("`", "").replace("\\", "")
        return word

    @st.composite
    def shaped(draw):
        cmd = draw(st.sampled_from(CORE + DATASTORE + list(EXTRA)))
        words = []
        if draw(st.booleans()):
            words.append("dokku")
        app = draw(st.sampled_from(APPS))
        if draw(st.integers(0, 5)) == 0:
            words += ["--app", app, cmd]
        else:
            words.append(cmd)
            if draw(st.integers(0, 4)):
                words += draw(st.lists(st.sampled_from(FILLER), max_size=2))
                kind, _colon, verb = cmd.partition(":")
                if kind in TYPES:
                    # the datastore verbs that take an app (their docs): link, unlink, promote, linked
                    # take SERVICE APP, app-links takes APP; the others take no app
                    if verb == "app-links":
                        words.append(app)
                    elif verb != "list":       # <type>:list takes no service
                        words.append(draw(st.sampled_from(SERVICES)))
                        if verb in ("link", "unlink", "promote", "linked"):
                            words.append(app)
                else:
                    words.append(app)
                    if cmd in ("apps:rename", "apps:clone"):
                        words.append(draw(st.sampled_from(APPS)))
        words += draw(st.lists(st.sampled_from(FILLER), max_size=4))
        return " ".join(q(w, draw) for w in words)

    @st.composite
    def special(draw):
        app = draw(st.sampled_from(APPS))
        other = draw(st.sampled_from(APPS))
        forms = ["git-receive-pack '%s'" % app, "git-upload-pack '/%s'" % app, "git-receive-pack %s" % app,
                 "docker-over-ssh pull dokku/%s:1" % app, "docker tag dokku/%s:1 dokku/%s:2" % (app, other),
                 "docker version", "version", "dokku version",
                 "git:from-image %s dokku/%s:1" % (app, other),
                 "git:from-image %s docker.io/dokku/%s:1" % (app, other),
                 "git:load-image %s dokku/%s:1" % (app, other),
                 "teams:%s %s %s" % (draw(st.sampled_from(sorted(OPEN_VERBS | OWNER_VERBS) + ["create", "app-add"])),
                                     draw(st.sampled_from(TEAMS)), draw(st.sampled_from(USERS + APPS))),
                 "apps:create %s" % app, "apps:rename %s %s" % (app, other), "apps:clone %s %s" % (app, other)]
        return draw(st.sampled_from(forms))

    junk_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=80)
    metachars = st.lists(st.sampled_from(list(";&|$`<>(){}*?[]~#\\'\" \t\n\r\x00\x7f=-:/") + list(APPS) +
                                         CORE[:40]), max_size=30).map("".join)
    raw = st.one_of(shaped(), shaped(), shaped(), special(), junk_text, metachars,
                    st.binary(max_size=120), st.just("x" * 5000), st.just(b"a " * 70))
    return view(), raw


def run_for(seconds, examples_per_round=2000, report=None):
    """Fuzz for ``seconds`` (wall clock, in rounds of ``examples_per_round``); returns counts."""
    import time
    from hypothesis import HealthCheck, given, settings

    views, raws = strategies()
    counts = {"examples": 0, "allowed": 0, "denied": 0, "malformed": 0, "rounds": 0}

    @settings(max_examples=examples_per_round, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(views, raws)
    def one(view, raw):
        d = check(view, raw)
        counts["examples"] += 1
        counts["allowed" if d.allowed else ("malformed" if d.code == 64 else "denied")] += 1

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        one()
        counts["rounds"] += 1
        if report:
            report(counts)
    return counts
