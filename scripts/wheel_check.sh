#!/usr/bin/env bash
# Koderz as `pip install` users get it: build the wheel, install it (not editable) into a
# fresh virtualenv, and from a folder outside the checkout render a report on demo data with
# the installed `koderz`. Fails if the wheel lacks the notebooks or anything a report needs.
#
#   bash scripts/wheel_check.sh
#
# pip fetches the dependencies from PyPI (its cache makes a second run quick).
set -euo pipefail
cd "$(dirname "$0")/.."
checkout="$(pwd)"

work="$(mktemp -d -t koderz-wheel-XXXXXX)"
trap 'rm -rf "$work"' EXIT
# The virtualenv must see only the wheel: no PYTHONPATH into the checkout.
unset PYTHONPATH

# From a copy of the files git knows (committed or not; ignored ones left out): a build/ left
# in the checkout by an earlier build would slip stale files into the wheel.
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard | xargs -0 tar --ignore-failed-read -cf - | tar -xf - -C "$work/src"
python3 -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$work/src"
wheel="$(ls "$work"/dist/koderz-*.whl)"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "$wheel"

mkdir "$work/elsewhere"
cd "$work/elsewhere"
"$work/venv/bin/python" - "$checkout" <<'EOF'
import sys
from pathlib import Path

import koderz

installed = Path(koderz.__file__).resolve()
assert Path(sys.argv[1]).resolve() not in installed.parents, f"koderz imported from {installed}"
koderz.demo_data("demo", problems=6)
EOF
"$work/venv/bin/koderz" report --data-dir demo --out reports
page="$(ls reports/tier_comparison_*.html)"
grep -q "Cost against pass rate" "$page"
echo "wheel check: $(basename "$wheel") renders $(basename "$page") outside the checkout"
