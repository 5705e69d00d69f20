# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests import the code as the top-level package ``module_utils`` (``plugins/`` on sys.path)."""

import os
import sys

PLUGINS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "plugins"))
if PLUGINS not in sys.path:
    sys.path.insert(0, PLUGINS)
