#!/usr/bin/env bash
# Vendors govuk-frontend from the npm registry into crates/alliance-web/assets/govuk/.
# Alliance is not hosted on GOV.UK, so the GDS Transport font and the crown are dropped:
# the @font-face rules are removed and the font stack falls back to Arial.
set -euo pipefail
version="${1:-5.14.0}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "govuk-frontend@$version" >/dev/null 2>&1 && tar xzf govuk-frontend-*.tgz)
dist="$work/package/dist/govuk"
out="$here/crates/alliance-web/assets/govuk"
mkdir -p "$out"
sed -e 's/@font-face{[^}]*}//g' -e 's/font-family:GDS Transport,/font-family:/g' "$dist/govuk-frontend.min.css" > "$out/govuk-frontend.min.css"
sed -e 's|//# sourceMappingURL=.*||' "$dist/govuk-frontend.min.js" > "$out/govuk-frontend.min.js"
printf "govuk-frontend %s, (c) Crown copyright, MIT licence (https://github.com/alphagov/govuk-frontend).\nVendored by tools/vendor-govuk-frontend.sh with the GDS Transport font faces removed.\n" "$version" > "$out/NOTICE"
echo "$version" > "$out/VERSION"
echo "vendored govuk-frontend $version into $out"
