# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The functions a template Dokku renders on the host may call: pure ones only.

sigil 0.12.1 registers its builtins in ``gliderlabs/sigil`` ``builtin/builtin.go`` (``init``).
Pure (strings and data in, strings and data out, nothing read or run): ``default``,
``capitalize``, ``lower``, ``upper``, ``replace``, ``trim``, ``indent``, ``match``, ``substr``,
``pointer``, ``jmespath``, ``tojson``, ``toyaml``, ``uniq``, ``drop``, ``append``, ``seq``,
``join``, ``joinkv``, ``split``, ``splitkv``.

Refused, and why:

- ``sh`` runs a program; ``httpget`` fetches a URL from the host;
- ``include``, ``file``, ``text``, ``exists``, ``dir``, ``dirs``, ``files`` read or list host paths;
- ``json``, ``yaml``, ``base64enc``, ``base64dec`` take a *file*: a string argument is a path
  they read (``read`` in ``builtin.go``);
- ``render`` renders a string built at run time as a template (its functions cannot be seen
  before it runs); ``stdin`` reads Dokku's standard input; ``var`` reads Dokku's environment.

From ``text/template`` itself (its ``builtins``): ``and or not len index slice print printf
println html js urlquery eq ne lt le gt ge``. ``call`` is left out: it calls a function
value, and a template that needs one is not a plain config file.
"""

from __future__ import annotations

TEXT_TEMPLATE = frozenset("and or not len index slice print printf println html js urlquery "
                          "eq ne lt le gt ge".split())
SIGIL_PURE = frozenset("default capitalize lower upper replace trim indent match substr pointer "
                       "jmespath tojson toyaml uniq drop append seq join joinkv split splitkv".split())
ALLOWED = TEXT_TEMPLATE | SIGIL_PURE


def refused(calls):
    """The first ``(name, line)`` of ``calls`` outside the allow-list, or None."""
    for name, line in calls:
        if name not in ALLOWED:
            return name, line
    return None
