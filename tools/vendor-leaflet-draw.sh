#!/usr/bin/env bash
# Vendors Leaflet.draw (the drawing tools of the place register's map) from the npm registry
# into crates/alliance-web/assets/leaflet-draw/, so drawing works offline with no CDN.
set -euo pipefail
version="${1:-1.0.4}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "leaflet-draw@$version" >/dev/null 2>&1 && tar xzf leaflet-draw-*.tgz)
dist="$work/package/dist"
out="$here/crates/alliance-web/assets/leaflet-draw"
mkdir -p "$out/images"
sed -e 's|//# sourceMappingURL=.*||' "$dist/leaflet.draw.js" > "$out/leaflet.draw.js"
cp "$dist/leaflet.draw.css" "$out/leaflet.draw.css"
cp "$dist/images/spritesheet.png" "$dist/images/spritesheet-2x.png" "$dist/images/spritesheet.svg" "$out/images/"
printf "Leaflet.draw %s, (c) Jacob Toye and Leaflet contributors, MIT licence (https://github.com/Leaflet/Leaflet.draw).\nVendored by tools/vendor-leaflet-draw.sh.\n" "$version" > "$out/NOTICE"
echo "$version" > "$out/VERSION"
echo "vendored leaflet-draw $version into $out"
