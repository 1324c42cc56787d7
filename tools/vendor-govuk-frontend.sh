#!/usr/bin/env bash
# Vendors govuk-frontend from the npm registry into crates/alliance-web/assets/govuk/.
# Alliance is not hosted on GOV.UK, so the GDS Transport font and the crown are dropped:
# the @font-face rules are removed and the font stack falls back to Arial.
set -euo pipefail
version="${1:-5.14.0}"
source "$(dirname "$0")/vendor-lib.sh"
unpack govuk-frontend "$version"
dist="$work/package/dist/govuk"
out="$here/crates/alliance-web/assets/govuk"
mkdir -p "$out"
sed -e 's/@font-face{[^}]*}//g' -e 's/font-family:GDS Transport,/font-family:/g' "$dist/govuk-frontend.min.css" > "$out/govuk-frontend.min.css"
without_source_map "$dist/govuk-frontend.min.js" > "$out/govuk-frontend.min.js"
record "$out" govuk-frontend "$version" "govuk-frontend $version, (c) Crown copyright, MIT licence (https://github.com/alphagov/govuk-frontend).
Vendored by tools/vendor-govuk-frontend.sh with the GDS Transport font faces removed."
