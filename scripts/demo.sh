#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install tutorkit from this checkout, create a
# PyTorch companion repo from the embedded template, install that repo as its README says, and
# run its smoke suite (unit tests + the notebook) and a smoke training run.
#
#   bash scripts/demo.sh [DEST]        (DEST defaults to /tmp/digits-tutorial; must not exist)
set -euo pipefail

dest="${1:-/tmp/digits-tutorial}"
checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

echo "==> installing tutorkit into $checkout/.venv"
python3 -m venv "$checkout/.venv"
"$checkout/.venv/bin/pip" install --quiet -e "$checkout"

echo "==> tutorkit new $dest --defaults"
"$checkout/.venv/bin/tutorkit" new "$dest" --defaults

cd "$dest"
package="$(sed -n 's/^package_name: //p' .copier-answers.yml)"
echo "==> installing $dest (pip install -r requirements.txt)"
python3 -m venv .venv
.venv/bin/pip install --quiet -r requirements.txt

echo "==> smoke suite: pytest (unit tests + every notebook, smoke profile)"
.venv/bin/python -m pytest -q -p no:cacheprovider

echo "==> smoke training run"
.venv/bin/python -m "$package.train" --config smoke
