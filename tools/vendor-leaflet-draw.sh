#!/usr/bin/env bash
# Vendors Leaflet.draw (the drawing tools of the place register's map) from the npm registry
# into crates/alliance-web/assets/leaflet-draw/, so drawing works offline with no CDN.
set -euo pipefail
version="${1:-1.0.4}"
source "$(dirname "$0")/vendor-lib.sh"
unpack leaflet-draw "$version"
dist="$work/package/dist"
out="$here/crates/alliance-web/assets/leaflet-draw"
mkdir -p "$out/images"
without_source_map "$dist/leaflet.draw.js" > "$out/leaflet.draw.js"
cp "$dist/leaflet.draw.css" "$out/leaflet.draw.css"
cp "$dist/images/spritesheet.png" "$dist/images/spritesheet-2x.png" "$dist/images/spritesheet.svg" "$out/images/"
record "$out" leaflet-draw "$version" "Leaflet.draw $version, (c) Jacob Toye and Leaflet contributors, MIT licence (https://github.com/Leaflet/Leaflet.draw).
Vendored by tools/vendor-leaflet-draw.sh."
