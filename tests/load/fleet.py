"""A fleet of lab hosts side by side, converged by one site.yml run (bench/fleet, test_fleet)."""
import os
import time

import kit

NAMES = (("fleet1", 51), ("fleet2", 52), ("fleet3", 53))
FORKS = 3


def up(names=NAMES):
    return [kit.fresh_lab(name, index) for name, index in names]


def down(names=NAMES):
    for name, _index in names:
        try:
            kit.labctl.down(name)
        except Exception:
            pass


def without(keys, user):
    """The example declaration with ``user`` removed from inventory (and from every team)."""
    d = kit.declared(keys)
    d["dokku_teams_users"] = [u for u in d["dokku_teams_users"] if u["name"] != user]
    teams = []
    for team in d["dokku_teams_teams"]:
        team = dict(team)
        for field in ("owners", "members"):
            if field in team:
                team[field] = [m for m in team[field] if m != user]
        teams.append(team)
    d["dokku_teams_teams"] = teams
    return d


def policies(labs):
    return {lab.name: kit.export(lab) for lab in labs}


def access(labs, keys, user, cmd="config:get web FLEET"):
    """{lab: (exit code, stderr)} for ``user`` running ``cmd`` on each lab."""
    out = {}
    for lab in labs:
        r = kit.as_user(lab, keys, user, cmd)
        out[lab.name] = (r.returncode, r.stderr.strip())
    return out


def lost_access(code_err):
    code, err = code_err
    return code == 77 or (code == 255 and "Permission denied" in err)


def converge_fleet(work, labs, keys, extra_vars=None, tag="fleet"):
    inv = kit.write_inventory(os.path.join(work, "inventory-%s-%d" % (tag, len(labs))), labs)
    t0 = time.monotonic()
    r = kit.converge(inv, keys, extra_vars, forks=max(FORKS, len(labs)))
    return r, time.monotonic() - t0, inv
