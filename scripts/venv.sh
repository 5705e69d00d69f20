# shellcheck shell=sh
# Sourced by the scripts in scripts/ and bench/ (one directory below the checkout's root): the
# checkout's virtual environment, made by scripts/deps with the distribution's /usr/bin/python3,
# becomes the only Python on PATH. python3, pytest, ansible-*, molecule and ansible-lint are then
# those of requirements-dev.txt, never a pyenv, /usr/local or system-wide copy: PATH keeps only
# the venv and the distribution's directories.
VIRTUAL_ENV=$(cd "$(dirname "$0")/.." && pwd -P)/.venv
if ! "$VIRTUAL_ENV/bin/python3" -c 'import ansible' 2>/dev/null; then
  echo "!     the checkout's .venv is missing or broken: run scripts/deps (make deps)" >&2
  exit 1
fi
export VIRTUAL_ENV
export PATH="$VIRTUAL_ENV/bin:/usr/sbin:/usr/bin:/sbin:/bin"
unset PYTHONPATH PYTHONHOME
