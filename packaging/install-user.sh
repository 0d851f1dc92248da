#!/usr/bin/env bash
# Add ConvDesigner to your desktop's application menu (for you only, no root needed):
#
#   packaging/install-user.sh                     # launcher runs `convdesigner` from your PATH
#   packaging/install-user.sh dist/convdesigner   # launcher runs that app bundle
#   packaging/install-user.sh --uninstall
#
# Installs the .desktop file, the AppStream metainfo and the icons (every PNG size and the SVG)
# under ${XDG_DATA_HOME:-~/.local/share}, then refreshes the desktop and icon caches when the
# tools for that are installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
app_id=io.github.convdesigner.ConvDesigner
data=${XDG_DATA_HOME:-$HOME/.local/share}
icons=$data/icons/hicolor
sizes=(16 24 32 48 64 128 256 512)

refresh() {
    if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$data/applications" || true; fi
    if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true; fi
}

if [[ ${1:-} == --uninstall ]]; then
    rm -f "$data/applications/$app_id.desktop" "$data/metainfo/$app_id.metainfo.xml" \
        "$icons/scalable/apps/$app_id.svg"
    for size in "${sizes[@]}"; do rm -f "$icons/${size}x${size}/apps/$app_id.png"; done
    refresh
    echo "removed $app_id from $data"
    exit 0
fi

exec_cmd=convdesigner
if [[ $# -ge 1 ]]; then
    if [[ ! -x $1/convdesigner ]]; then
        echo "install-user.sh: $1 is not an app bundle (no executable $1/convdesigner)" >&2
        exit 2
    fi
    exec_cmd=$(cd "$1" && pwd)/convdesigner
    if [[ $exec_cmd == *[[:space:]\"\'\\\$\`]* ]]; then
        echo "install-user.sh: the bundle path must not contain spaces, quotes, \\, \$ or \`: $exec_cmd" >&2
        exit 2
    fi
fi

mkdir -p "$data/applications" "$data/metainfo" "$icons/scalable/apps"
sed -e "s|^Exec=convdesigner |Exec=$exec_cmd |" -e "s|^TryExec=convdesigner\$|TryExec=$exec_cmd|" \
    "$here/$app_id.desktop" >"$data/applications/$app_id.desktop"
cp "$here/$app_id.metainfo.xml" "$data/metainfo/"
cp "$root/resources/icons/convdesigner.svg" "$icons/scalable/apps/$app_id.svg"
for size in "${sizes[@]}"; do
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$root/resources/icons/convdesigner-$size.png" "$icons/${size}x${size}/apps/$app_id.png"
done
refresh
echo "installed $app_id in $data (runs: $exec_cmd)"
