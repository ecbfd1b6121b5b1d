# Shared by scripts/demo and scripts/test: make .venv and install the project
# into it (again only when pyproject.toml changed). Needs only Python 3.11+.
set -euo pipefail
PYTHON_BIN=${PYTHON:-python3}
if ! "$PYTHON_BIN" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "careteams needs Python 3.11 or newer (found: $("$PYTHON_BIN" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..."
  "$PYTHON_BIN" -m venv .venv
fi
install_project() {  # $1: extras, e.g. "[dev]" or ""
  local stamp=".venv/.installed$1-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "Installing careteams$1 into .venv (first run takes a minute) ..."
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".$1"
    rm -f .venv/.installed"$1"-*
    touch "$stamp"
  fi
}
