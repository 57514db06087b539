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
# As the repo's README says: the hashed lock (every package, as of its date), then the package.
locked=requirements.lock
[ -f "$locked" ] || locked=requirements.txt
echo "==> installing $dest (pip install -r $locked)"
python3 -m venv .venv
# The pins send pip to PyTorch's CPU wheel index besides PyPI (no multi-GB CUDA build). On a
# machine that reaches only its package registry, pip would retry that index five times per
# package: look it up once, and if it is out of reach install from the registry alone.
requirements="$locked"
cpu_index="--extra-index-url https://download.pytorch.org/whl/cpu"
if grep -qx -- "$cpu_index" "$locked" &&
  ! python3 -c "import socket; socket.getaddrinfo('download.pytorch.org', 443)" 2>/dev/null; then
  echo "    PyTorch's CPU wheel index is out of reach here: installing from the package registry alone"
  grep -vx -- "$cpu_index" "$locked" > ".venv/$locked"
  requirements=".venv/$locked"
fi
if [ "$locked" = requirements.lock ]; then
  .venv/bin/pip install --quiet --require-hashes -r "$requirements"
  .venv/bin/pip install --quiet --no-deps -e .
else
  .venv/bin/pip install --quiet -r "$requirements"
fi

echo "==> smoke suite: pytest (unit tests + every notebook, smoke profile)"
.venv/bin/python -m pytest -q -p no:cacheprovider

echo "==> smoke training run"
.venv/bin/python -m "$package.train" --config smoke
