#!/usr/bin/env bash
# Builds the bundled demo data in data/demo/ from ../shared/data (run from the repository
# root): Staffordshire Police street-level crime for 2025 (12 months) and the area reference
# rows and boundaries for Staffordshire and Stoke-on-Trent, gzip-compressed.
set -euo pipefail
shared="${1:-../shared/data}"
out=data/demo
rm -rf "$out" && mkdir -p "$out/police" "$out/areas"
for f in "$shared"/police/staffordshire/2025-*-staffordshire-street.csv; do
  gzip -9 -n -c "$f" > "$out/police/$(basename "$f").gz"
done
lads="E06000021|E07000192|E07000193|E07000194|E07000195|E07000196|E07000197|E07000198|E07000199"
subset() { # header plus rows whose district column matches
  python3 - "$1" "$2" "$3" <<'PY'
import csv, re, sys, gzip
src, dst, col = sys.argv[1], sys.argv[2], int(sys.argv[3])
lads = set("E06000021 E07000192 E07000193 E07000194 E07000195 E07000196 E07000197 E07000198 E07000199".split())
with open(src, newline='', encoding='utf-8-sig') as f, gzip.open(dst, 'wt', newline='', encoding='utf-8') as g:
    r = csv.reader(f); w = csv.writer(g, lineterminator='\n')
    w.writerow(next(r))
    for row in r:
        if row[col] in lads: w.writerow(row)
PY
}
subset "$shared/lsoa/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv" "$out/areas/imd2019-staffordshire.csv.gz" 2
subset "$shared/lsoa/File_6_-_IoD2019_Population_Denominators.csv" "$out/areas/population-mid2015-staffordshire.csv.gz" 2
subset "$shared/lsoa/la_all_codes.csv" "$out/areas/districts-staffordshire.csv.gz" 0
for kind in lsoa11 lsoa ward; do
  python3 - "$shared/lsoa/boundaries/$kind" "$out/areas/boundaries-$kind-staffordshire.geojson.gz" <<'PY'
import json, sys, glob, gzip, os
lads = "E06000021 E07000192 E07000193 E07000194 E07000195 E07000196 E07000197 E07000198 E07000199".split()
features = []
for lad in lads:
    features += json.load(open(os.path.join(sys.argv[1], lad + ".geojson")))["features"]
with gzip.open(sys.argv[2], "wt", encoding="utf-8") as g:
    json.dump({"type": "FeatureCollection", "features": features}, g, separators=(",", ":"))
PY
done
cat > "$out/SOURCES.md" <<'MD'
# Bundled demo data

A compact sample loaded when `alliance serve` starts on an empty database. Built by
`tools/make-demo-data.sh` from the shared data set.

- `police/`: Staffordshire Police street-level crime, 2025-01 to 2025-12, from data.police.uk,
  unchanged apart from gzip compression.
- `areas/imd2019-staffordshire.csv.gz`: English Indices of Deprivation 2019, File 1 (MHCLG), rows
  of the nine Staffordshire and Stoke-on-Trent districts.
- `areas/population-mid2015-staffordshire.csv.gz`: IoD 2019 File 6 population denominators
  (mid-2015), the same rows.
- `areas/districts-staffordshire.csv.gz`: local authority district codes and names.
- `areas/boundaries-*-staffordshire.geojson.gz`: ONS generalised clipped boundaries of LSOAs
  (2011 and 2021) and wards (2025) in the nine districts.

Contains public sector information licensed under the Open Government Licence v3.0.
Boundaries: Source: Office for National Statistics licensed under the OGL v3.0. Contains OS data
© Crown copyright and database right.
MD
du -sh "$out"
