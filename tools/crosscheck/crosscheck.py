"""Cross-check Alliance's Gi*, Gi, local Moran and global Moran against PySAL's esda.

Optional, not part of the Rust build. Usage (from the repository root):

    python3 -m venv /tmp/crosscheck-venv
    /tmp/crosscheck-venv/bin/pip install esda libpysal numpy scipy
    cargo run -q -p alliance-core --example spatial_crosscheck > /tmp/alliance-spatial.csv
    /tmp/crosscheck-venv/bin/python tools/crosscheck/crosscheck.py /tmp/alliance-spatial.csv

Exits non-zero if any value differs by more than 1e-9.
"""

import sys
import warnings

import numpy as np
from esda.getisord import G_Local
from esda.moran import Moran, Moran_Local
from libpysal.weights import lat2W

warnings.filterwarnings("ignore")
TOL = 1e-9


def main(path):
    with open(path) as f:
        header = f.readline()
    meta = dict(
        part.split("=")
        for part in header.replace(";", " ").replace(":", " ").split()
        if "=" in part
    )
    nx, ny = int(meta["nx"]), int(meta["ny"])
    data = np.genfromtxt(path, delimiter=",", names=True, skip_header=1)
    y = data["value"].astype(float)
    # lat2W numbers cells row by row: id = row * ncols + col, Alliance's iy * nx + ix
    w = lat2W(ny, nx, rook=False)

    worst = {}

    def check(name, ours, theirs):
        diff = float(np.max(np.abs(np.asarray(ours) - np.asarray(theirs))))
        worst[name] = diff

    check("Gi* z (esda G_Local B, star)",
          data["gi_star_z"], G_Local(y, w, transform="B", star=True, permutations=0).Zs)
    check("Gi z (esda G_Local B)",
          data["gi_z"], G_Local(y, w, transform="B", star=False, permutations=0).Zs)
    lm_r = Moran_Local(y, w, transformation="r", permutations=0)
    check("local Moran I (row)", data["lm_row_i"], lm_r.Is)
    check("local Moran quadrant (row)", data["lm_row_q"], lm_r.q)
    lm_b = Moran_Local(y, w, transformation="b", permutations=0)
    check("local Moran I (binary)", data["lm_bin_i"], lm_b.Is)
    for label, tr in (("row", "r"), ("binary", "b")):
        m = Moran(y, w, transformation=tr, permutations=0)
        global_part = header.split(f"global {label}:")[1].split(";")[0]
        ours = dict(kv.split("=") for kv in global_part.split())
        check(f"global Moran I ({label})", float(ours["I"]), m.I)
        check(f"global Moran z_norm ({label})", float(ours["z_norm"]), m.z_norm)
        check(f"global Moran z_rand ({label})", float(ours["z_rand"]), m.z_rand)

    ok = True
    for name, diff in worst.items():
        flag = "ok" if diff <= TOL else "DIFFERS"
        ok &= diff <= TOL
        print(f"{name:40s} max |diff| = {diff:.3e}  {flag}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin"))
