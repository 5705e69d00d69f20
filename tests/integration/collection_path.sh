#!/bin/sh
# Make this checkout importable as the collection dokku_ci.teams and print the directory to
# put in ANSIBLE_COLLECTIONS_PATH:
#   export ANSIBLE_COLLECTIONS_PATH="$(tests/integration/collection_path.sh)"
# It links build/ansible_collections/dokku_ci/teams -> the checkout (build/ is git-ignored).
# tests/integration/ansible.cfg points collections_path at the same directory.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd -P)
ns="$root/build/ansible_collections/dokku_ci"
mkdir -p "$ns"
if [ "$(readlink "$ns/teams" 2>/dev/null || true)" != "../../.." ]; then
    rm -rf "$ns/teams"
    ln -s ../../.. "$ns/teams"
fi
printf '%s\n' "$root/build"
