#!/usr/bin/env bash
# Set up Koderz on a fresh machine: system packages, then Koderz with every extra.
#
#   bash scripts/setup.sh
#
# Debian/Ubuntu: installs bubblewrap (the sandbox's namespaces) and chromium (the report
# test opens the HTML in a headless browser). Elsewhere those are skipped: the sandbox then
# says once which isolation remains. Python packages go into the active environment (make
# and activate a venv first if you want one); llama-cpp-python compiles once (~8 min on 2
# cores) and pip caches the wheel. scripts/toolchains.sh then adds what the polyglot exercises
# and MultiPL-E programs need (C++, Go, Java, JavaScript, Rust), skipping what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        bubblewrap chromium >/dev/null
else
    echo "setup: no apt-get here; skipping bubblewrap and chromium (see README)." >&2
fi

python3 -m pip install --quiet --upgrade pip
python3 -m pip install --quiet -e '.[embedded,dask,dev]'
# Byte code for Koderz's own modules, as pip writes it for a regular install: an editable
# install leaves it to the first import, which never writes it where PYTHONDONTWRITEBYTECODE
# is set (many container images), so every command would compile Koderz again.
python3 -m compileall -q koderz
# Toolchains of the other languages (docs/languages.md); what is present is kept.
bash scripts/toolchains.sh || echo "setup: some toolchains are missing (koderz check --languages)" >&2
echo "setup: done. Try: koderz models"
