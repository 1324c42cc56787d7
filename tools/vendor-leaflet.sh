#!/usr/bin/env bash
# Vendors Leaflet from the npm registry into crates/alliance-web/assets/leaflet/ (the map
# page draws vector layers only: no tile server, no external requests).
set -euo pipefail
version="${1:-1.9.4}"
source "$(dirname "$0")/vendor-lib.sh"
unpack leaflet "$version"
dist="$work/package/dist"
out="$here/crates/alliance-web/assets/leaflet"
mkdir -p "$out/images"
without_source_map "$dist/leaflet.js" > "$out/leaflet.js"
cp "$dist/leaflet.css" "$out/leaflet.css"
cp "$dist/images/layers.png" "$dist/images/layers-2x.png" "$dist/images/marker-icon.png" "$out/images/"
record "$out" leaflet "$version" "Leaflet $version, (c) Volodymyr Agafonkin and contributors, BSD 2-Clause licence (https://github.com/Leaflet/Leaflet).
Vendored by tools/vendor-leaflet.sh."
