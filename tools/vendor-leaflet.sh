#!/usr/bin/env bash
# Vendors Leaflet from the npm registry into crates/alliance-web/assets/leaflet/ (the map
# page draws vector layers only: no tile server, no external requests).
set -euo pipefail
version="${1:-1.9.4}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "leaflet@$version" >/dev/null 2>&1 && tar xzf leaflet-*.tgz)
dist="$work/package/dist"
out="$here/crates/alliance-web/assets/leaflet"
mkdir -p "$out/images"
sed -e 's|//# sourceMappingURL=.*||' "$dist/leaflet.js" > "$out/leaflet.js"
cp "$dist/leaflet.css" "$out/leaflet.css"
cp "$dist/images/layers.png" "$dist/images/layers-2x.png" "$dist/images/marker-icon.png" "$out/images/"
printf "Leaflet %s, (c) Volodymyr Agafonkin and contributors, BSD 2-Clause licence (https://github.com/Leaflet/Leaflet).\nVendored by tools/vendor-leaflet.sh.\n" "$version" > "$out/NOTICE"
echo "$version" > "$out/VERSION"
echo "vendored leaflet $version into $out"
