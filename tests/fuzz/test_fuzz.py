"""60 seconds of property-based fuzzing of the command parser and the decision (see
fuzzlib.py for the generators and the independent oracle). bench/fuzz --minutes 10 is the
long run. DOKKU_TEAMS_FUZZ_SECONDS overrides the budget."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "plugins"))
sys.path.insert(0, HERE)
import fuzzlib  # noqa: E402

SECONDS = float(os.environ.get("DOKKU_TEAMS_FUZZ_SECONDS", "60"))


def test_parser_and_decision_under_fuzzing():
    counts = fuzzlib.run_for(SECONDS, examples_per_round=1000)
    print("fuzz: %s" % counts)
    assert counts["examples"] > 0 and counts["allowed"] > 0 and counts["malformed"] > 0


def test_oracle_catches_a_wrong_allow():
    """The oracle is not vacuous: a decision allowing a foreign app or a globbed host escape fails it."""
    from module_utils import evaluate as ev
    from module_utils.policy import Decision

    view = {"version": 1, "user": "alice", "admin": False, "fingerprints": [], "owns": [], "member_of": ["web"],
            "teams": [{"team": "web", "commands": ["config:*", "docker-options:*", "ps:*", "domains:*", "builder:*"],
                       "apps": ["web"],
                       "all_apps": False, "services": []}]}
    real = ev.decide

    def lenient(view, request, programs=None, held=None):
        return Decision(True, "granted by nobody", request, ["/usr/bin/dokku"] + list(request.argv), "web")
    ev.decide = lenient
    try:
        for raw in ("config:get api KEY", "docker-options:add web deploy -v", "events:on", "config:set --global A=1",
                    "config:set web PATH=/x", "ps:set web restart-policy 'on-failure:1 --privileged'",
                    "domains:remove web '.*|e id;#'", "builder:set web build-dir ../.."):
            try:
                fuzzlib.check(view, raw)
            except AssertionError:
                continue
            raise AssertionError("the oracle accepted a wrong allow of %r" % raw)
    finally:
        ev.decide = real
    assert not fuzzlib.check(view, "config:get api KEY").allowed
    assert fuzzlib.check(view, "config:get web KEY").allowed


def test_oracle_places_the_app_of_a_run_command_line_by_position():
    """Found by the 10-minute run: `run 2 --global` (an app outside the generator's pool) is a
    command line for the container, not an admin option; `run --global web` is refused."""
    view = {"version": 1, "user": "alice", "admin": False, "fingerprints": [], "owns": [], "member_of": ["ops"],
            "teams": [{"team": "ops", "commands": ["run"], "apps": [], "all_apps": True, "services": []}]}
    assert fuzzlib.check(view, "run 2 ls --global").allowed
    # options right after the app are still parsed (enter's --container-id): admin-only here
    assert not fuzzlib.check(view, "run 2 --global").allowed
    assert fuzzlib.check(view, "--app web run ls --all").allowed
    assert not fuzzlib.check(view, "run --global web").allowed
