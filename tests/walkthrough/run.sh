#!/usr/bin/env bash
# Run the new user's walkthrough in a real X window and check what it built.
#
#   tests/walkthrough/run.sh ../shared/tools/xshot OUT_FOLDER [CONVDESIGNER_COMMAND...]
#
# The app starts with a fresh configuration (no saved layout, recent files or autosave) on a
# 1366×768 screen; steps.sh builds the Q&A network from File → New → Empty Design with real
# drags and typing, saves it, then answers the six learner's questions, counting the clicks
# of each. OUT_FOLDER receives a screenshot per step and clicks.md (the table of counts).
# Exits 1 if the saved design is not the Q&A example's network.
set -eu
xshot=${1:?usage: run.sh XSHOT OUT_FOLDER [COMMAND...]}
out=${2:?usage: run.sh XSHOT OUT_FOLDER [COMMAND...]}
shift 2
[ $# -gt 0 ] || set -- convdesigner
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/built.json" "$out/clicks.md" "$out/one-value-window-opened"
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
export OUT="$out" CONVDESIGNER_SETTINGS_DIR="$config/settings" CONVDESIGNER_DATA_DIR="$config/data"
export XDG_CONFIG_HOME="$config/config" XDG_DATA_HOME="$config/share"
"$xshot" --out "$out/99-end.png" --size 1366x768 --wait 5 --actions "$here/steps.sh" -- "$@"
[ -f "$out/built.json" ] || { echo "walkthrough: the design was not saved" >&2; exit 1; }
[ -f "$out/one-value-window-opened" ] || {
  echo "walkthrough: the One value window did not open (question 6)" >&2; exit 1
}
# The same command prints the summaries (convdesigner SUBCOMMAND works for the app's launcher).
if diff <("$@" summary "$repo/resources/designs/qa-example.json" | grep -v '^Design:') \
        <("$@" summary "$out/built.json" | grep -v '^Design:'); then
  echo "walkthrough: built the Q&A network; clicks per question in $out/clicks.md"
  cat "$out/clicks.md"
else
  echo "walkthrough: the built design differs from the Q&A example (see above)" >&2
  exit 1
fi
