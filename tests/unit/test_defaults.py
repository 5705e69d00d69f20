# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's defaults (``gateconfig``) are the one source of the collection's paths. The
engine imports them; the module docs, the role's YAML and the shell launchers cannot, so they
are held to them here: a default changed in one place and not the other fails this test."""

import glob
import os
import re
import subprocess
import sys

import jinja2
import pytest
import yaml

from module_utils import declare, gateconfig
from module_utils.gateconfig import DEFAULT_PATH, DEFAULTS, PYTHON, SUDO

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLE = os.path.join(ROOT, "roles", "dokku_teams")
# An absolute path in prose or YAML (not the tail of a longer path, a URL or ~/...).
PATH_TOKEN = re.compile(r"(?<![\w.~/:-])/(?:usr|etc|var|home|opt|srv)(?:/[\w.@+-]+)+")
INTERPRETER = re.compile(r"/usr/bin/python[0-9.]*")


def _yaml(relative):
    with open(os.path.join(ROLE, relative)) as handle:
        return yaml.safe_load(handle)


def _engine_paths():
    """Every path the engine has a default for."""
    paths = {DEFAULT_PATH, SUDO, PYTHON}
    for value in DEFAULTS.values():
        if isinstance(value, str) and value.startswith("/"):
            paths.update(value.split(":"))
    return paths


def _role_values():
    """The role's defaults and vars, with ``{{ var }}`` references between them resolved."""
    values = dict(_yaml("defaults/main.yml"))
    values.update(_yaml("vars/main.yml"))
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for unused_pass in range(4):
        for name, value in values.items():
            if isinstance(value, str) and "{{" in value:
                try:
                    values[name] = env.from_string(value).render(values)
                except Exception:  # pylint: disable=broad-except  # lookups/queries: not needed here
                    pass
    return values


def test_module_docs_name_only_the_engines_defaults():
    seen = set()
    files = sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")) +
                   glob.glob(os.path.join(ROOT, "plugins", "doc_fragments", "*.py")))
    assert files
    for path in files:
        with open(path) as handle:
            text = handle.read().split("\n", 1)[1]     # not the #!/usr/bin/python Ansible wants
        for token in PATH_TOKEN.findall(text):
            assert token in _engine_paths(), "%s names %s, which is no engine default" % (path, token)
            seen.add(token)
    # The docs do name the defaults a user needs (so this test checks something).
    assert {DEFAULT_PATH, DEFAULTS["state_dir"], DEFAULTS["dokku"], SUDO} <= seen


def test_config_option_default_is_the_engines():
    for path in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")):
        with open(path) as handle:
            source = handle.read()
        documentation = yaml.safe_load(source.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0])
        option = (documentation.get("options") or {}).get("config")
        if option is not None and "default" in option:
            assert option["default"] == DEFAULT_PATH, path


def test_the_role_writes_the_engines_default_config():
    with open(os.path.join(ROLE, "templates", "gate.conf.j2")) as handle:
        template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(handle.read())
    template.environment.filters["bool"] = lambda value: value in (True, "true", "yes", "1", 1)
    text = template.render(dict(_role_values(), ansible_managed="managed"))
    assert gateconfig.parse(text).as_dict() == DEFAULTS


def test_the_roles_fixed_paths_are_the_engines():
    values = _role_values()
    assert values["__dokku_teams_config"] == DEFAULT_PATH
    assert values["__dokku_teams_config_dir"] == os.path.dirname(DEFAULT_PATH)
    assert values["__dokku_teams_gate"] == DEFAULTS["gate"]
    assert values["__dokku_teams_sudo"] == SUDO
    assert values["__dokku_teams_shebang"] == "#!%s -IS\n" % PYTHON


def test_the_role_argument_specs_give_the_roles_defaults():
    entry_points = _yaml("meta/argument_specs.yml")["argument_specs"]
    options = dict(entry_points["main"]["options"], **entry_points["declaration"]["options"])
    defaults = _yaml("defaults/main.yml")
    checked = [name for name, spec in options.items() if "default" in spec]
    for name in checked:
        assert options[name]["default"] == defaults[name], name
    assert {"dokku_teams_state_dir", "dokku_teams_audit_log", "dokku_teams_dokku_bin", "dokku_teams_users",
            "dokku_teams_teams"} <= set(checked)


def _shape(spec):
    """What a spec says of values' shape (not their docs or defaults), nested options too."""
    out = {}
    for name, option in spec.items():
        out[name] = dict((field, option.get(field)) for field in ("type", "elements", "choices"))
        out[name]["required"] = option.get("required", False)
        out[name]["options"] = _shape(option["options"]) if "options" in option else None
    return out


def test_the_declaration_entry_point_documents_the_shape_dokku_team_plan_checks():
    entry_points = _yaml("meta/argument_specs.yml")["argument_specs"]
    assert set(entry_points) == {"main", "declaration"}
    # main's options are templated and checked by Ansible before every run; these only by the plan
    declared = entry_points["declaration"]["options"]
    assert set(declared) == {"dokku_teams_users", "dokku_teams_teams"}
    assert not set(entry_points["main"]["options"]) & set(declared)
    for role_name, items in (("dokku_teams_users", declare.user_item_options()),
                             ("dokku_teams_teams", declare.team_item_options())):
        assert (declared[role_name]["type"], declared[role_name]["elements"]) == ("list", "dict")
        documented, checked = _shape(declared[role_name]["options"]), _shape(items)
        # every documented field is one the module takes, with the same shape (the module also
        # takes a user's own exclusive_keys, which the role leaves to dokku_teams_exclusive_keys)
        assert documented == dict((name, checked[name]) for name in documented), role_name
        assert set(checked) - set(documented) <= {"exclusive_keys"}, role_name
    with open(os.path.join(ROLE, "tasks", "validate.yml")) as handle:
        plan = [task for task in yaml.safe_load(handle) if "dokku_ci.teams.dokku_team_plan" in task]
    assert len(plan) == 1 and plan[0]["when"] == "not __dokku_teams_policy_unchanged"
    # the argument specs are part of the stamp's key: a changed spec checks the declaration again
    assert "role_path ~ '/meta/argument_specs.yml'" in _yaml("vars/main.yml")["__dokku_teams_key_files"]


def test_every_interpreter_named_outside_the_engine_is_the_engines():
    files = [path for path in glob.glob(os.path.join(ROLE, "**", "*"), recursive=True) if os.path.isfile(path)]
    files += [os.path.join(ROOT, "bin", name) for name in os.listdir(os.path.join(ROOT, "bin"))]
    files += [os.path.join(ROOT, "bench", name) for name in os.listdir(os.path.join(ROOT, "bench"))]
    found = 0
    for path in files:
        if not os.path.isfile(path):
            continue
        with open(path, errors="replace") as handle:
            for token in INTERPRETER.findall(handle.read()):
                assert token == PYTHON, "%s starts %s, the engine says %s" % (path, token, PYTHON)
                found += 1
    assert found


def test_the_config_docstring_lists_the_defaults():
    block = gateconfig.__doc__.split("Keys and defaults::", 1)[1].split("\n\n", 2)[1]
    text = "\n".join(line.split(" #", 1)[0] for line in block.split("\n"))
    assert gateconfig.parse(text).as_dict() == DEFAULTS
    assert len(block.strip().split("\n")) == len(DEFAULTS)


def test_every_upload_limit_is_a_role_variable_written_to_gate_conf():
    with open(os.path.join(ROLE, "templates", "gate.conf.j2")) as handle:
        template = handle.read()
    options = _yaml("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = _yaml("defaults/main.yml")
    limits = [key for key, value in DEFAULTS.items() if isinstance(value, int) and not isinstance(value, bool)]
    assert len(limits) == 6
    for key in limits:
        assert "%s={{ dokku_teams_%s }}\n" % (key, key) in template, key
        assert defaults["dokku_teams_" + key] == DEFAULTS[key], key
        assert options["dokku_teams_" + key]["type"] == "int", key


def _config_check(tmp_path, text):
    """Run the role's gate.conf check (as the installer does) on ``text``, the engine being
    this checkout's."""
    values = _role_values()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    argv = [env.from_string(arg).render(values).replace(values["__dokku_teams_lib_dir"], os.path.join(ROOT, "plugins"))
            for arg in values["__dokku_teams_config_check"]]
    path = tmp_path / "gate.conf"
    path.write_text(text)
    path.chmod(0o644)
    argv = [arg.replace("%s", str(path)) for arg in argv]
    assert argv[0] == PYTHON
    return subprocess.run([sys.executable] + argv[1:], capture_output=True, text=True, check=False)


def test_the_roles_config_check_passes_the_rendered_default(tmp_path):
    with open(os.path.join(ROLE, "templates", "gate.conf.j2")) as handle:
        template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(handle.read())
    template.environment.filters["bool"] = lambda value: value in (True, "true", "yes", "1", 1)
    done = _config_check(tmp_path, template.render(dict(_role_values(), ansible_managed="managed")))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.parametrize("line, said", [
    ("upload_timeout=0\n", "upload_timeout must be a positive number of seconds"),
    ("max_spool_bytes=-5\n", "max_spool_bytes must be a positive number of bytes"),
    ("spool_reserve_bytes=1G\n", "spool_reserve_bytes must be a positive number of bytes"),
    ("state_dir=relative\n", "state_dir must be a plain absolute path"),
])
def test_the_roles_config_check_refuses_what_the_gate_would(tmp_path, line, said):
    done = _config_check(tmp_path, line)
    assert done.returncode == 1
    assert said in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
