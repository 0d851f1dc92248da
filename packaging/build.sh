#!/usr/bin/env bash
# Build the one-folder app bundle dist/convdesigner/ in a clean virtual environment.
#
#   packaging/build.sh            # venv in build/bundle-venv (reused if it already exists)
#   packaging/build.sh --fresh    # delete that venv first: a from-scratch build
#   BUILD_VENV=DIR packaging/build.sh   # keep the venv elsewhere (CI caches it between runs)
#
# The project is installed NON-editable into the venv, so the bundle is built from what a user's
# pip install would get (package data included), never from the source tree by accident.
# Prints the bundle's size and the time each step took. Needs python3 >= 3.11 with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fresh=0
for arg in "$@"; do
    case "$arg" in
        --fresh) fresh=1 ;;
        -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done
venv=${BUILD_VENV:-$root/build/bundle-venv}
python=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
start=$(now)

if [[ $fresh == 1 && -d $venv ]]; then
    echo "== removing $venv"
    rm -rf "$venv"
fi
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import sys; sys.exit(sys.version_info < (3, 11))"; then
    echo "== creating build venv $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi

t=$(now)
echo "== installing the project and PyInstaller"
# setuptools builds the wheel in build/lib: a module deleted from the sources but still there from
# an earlier build would end up in the wheel, so start without it (and leave none behind).
rm -rf "$root/build/lib" "$root/build/bdist."*
# pip reinstalls a project given by path every time (its code is what changed since the last
# build) but leaves the dependencies and PyInstaller (the build extra) alone once they satisfy it.
"$venv/bin/python" -m pip install -q ".[build]"
rm -rf "$root/build/lib" "$root/build/bdist."*
echo "   install: $(elapsed "$t")"

t=$(now)
echo "== pyinstaller"
rm -rf "$root/dist/convdesigner"
mkdir -p "$root/build"
# Run from build/, not the repository root: there the source folder convdesigner/ (which has no
# resources subpackage) would shadow the installed package in PyInstaller's import scans.
(cd "$root/build" && "$venv/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$root/dist" --workpath "$root/build/pyinstaller" \
    "$root/packaging/convdesigner.spec")
echo "   pyinstaller: $(elapsed "$t")"

bundle=$root/dist/convdesigner
if [[ ! -x $bundle/convdesigner ]]; then
    echo "build.sh: no executable at $bundle/convdesigner" >&2
    exit 1
fi
echo "== bundle: dist/convdesigner ($(du -sh "$bundle" | cut -f1), $(find "$bundle" -type f | wc -l) files)"
echo "== build time: $(elapsed "$start")"
