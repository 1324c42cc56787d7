"""Independent reference for the hotspot analyses of issue 15 (ArcGIS conventions).

Optional, outside the Rust build. It reads the files written by the Rust example
`hotspot_crosscheck` and recomputes everything from the incident points with other code:

1. counts per cell, and per cell and slice, from `points.csv` (floor((x - x0)/size));
2. fixed-distance-band weights between cell centres with scipy's cKDTree (d <= band);
3. Gi* z-scores with PySAL esda (`G_Local(transform="B", star=True)`), two-sided normal
   p-values with scipy, Benjamini-Hochberg with statsmodels (`multipletests(method="fdr_bh")`)
   at 0.10, 0.05 and 0.01, and the bins +-1/2/3 (ArcGIS Gi_Bin with FDR);
4. space-time Gi* written here as sparse matrix products: local sums S = A X Tw^T, with A the
   binary spatial weights plus the identity and Tw[t, s] = 1 for t - k <= s <= t, mean and
   variance over the whole cube, then the same p-values, FDR over all bins and bins;
5. Mann-Kendall per cell with pymannkendall (`original_test`) on the Gi* z-scores and on
   the counts;
6. the emerging hot spot categories, written here from Esri's published definitions (see
   `classify` below) with the same documented precedence as the Rust code;
7. when the optimized analysis chose them: the cell size from the incidents' nearest-
   neighbour spacing, and the distance band from Moran's I (written here with scipy sparse
   matrices) at the incremental distances, first peak or k-nearest-neighbour fallback.

Usage (from the repository root; DATA is the shared data folder):

    python3 -m venv /tmp/crosscheck-venv
    /tmp/crosscheck-venv/bin/pip install numpy scipy esda libpysal pymannkendall statsmodels
    cargo run --release -p alliance-core --example hotspot_crosscheck -- \
        --police DATA/police/staffordshire/2025-*-street.csv \
        --boundaries DATA/lsoa/boundaries/lsoa/E0*.geojson \
        --crime-type "Violence and sexual offences" --from 2025-01 --to 2025-12 --out /tmp/staffs
    /tmp/crosscheck-venv/bin/python tools/crosscheck/hotspots.py /tmp/staffs

Prints the agreement and exits non-zero if any count, bin or category differs, or a z-score
differs by more than 1e-9.
"""

import sys
import warnings

import numpy as np
import pymannkendall as pmk
from esda.getisord import G_Local
from libpysal.weights import WSP
from scipy import sparse
from scipy.spatial import cKDTree
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

warnings.filterwarnings("ignore")
Z_TOL = 1e-9
LEVELS = ((1, 0.10), (2, 0.05), (3, 0.01))


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            if "=" in line and ":" not in line:
                key, value = line.strip().split("=", 1)
                meta[key] = value
    return meta


def read_csv(path, dtype=float):
    return np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")


def fdr_bins(z, p):
    """Gi_Bin with the FDR option: BH at each level, the sign of z."""
    level = np.zeros(len(p), dtype=int)
    for lvl, q in LEVELS:
        reject = multipletests(p, alpha=q, method="fdr_bh")[0]
        level[reject] = lvl
    return (level * np.sign(z)).astype(int)


def classify(bins, trend_z, trend_p, m, level=1, trend_alpha=0.05):
    """One location's category from its bins over the m slices and the Mann-Kendall test of
    its z-scores. Esri's definitions ("How Emerging Hot Spot Analysis works"):
    new: hot in the final slice, never before; consecutive: one final run of >= 2 hot slices,
    never hot before it, hot in < 90 % of slices; intensifying / persistent / diminishing:
    hot in >= 90 % of slices including the final one, with a significant rising / no / a
    significant falling trend; sporadic: hot in the final slice, on and off, < 90 %, never
    cold; oscillating: hot in the final slice, cold in an earlier one, < 90 %; historical: not
    hot in the final slice but hot in >= 90 %. Cold spots mirror these (intensifying = z
    falling). Precedence (documented in emerging.rs): the final slice's state first; among
    final-hot patterns the 90 % ones, then oscillating, then new / consecutive / sporadic;
    historical only when the final slice is significant in neither direction."""
    hot = [b >= level for b in bins]
    cold = [b <= -level for b in bins]
    up = trend_p <= trend_alpha and trend_z > 0
    down = trend_p <= trend_alpha and trend_z < 0

    def side(this, other, stronger, weaker, name):
        count = sum(this)
        if count * 10 >= 9 * m:
            if stronger:
                return "intensifying-" + name
            if weaker:
                return "diminishing-" + name
            return "persistent-" + name
        if any(other):
            return "oscillating-" + name
        if count == 1:
            return "new-" + name
        run = 0
        for flag in reversed(this):
            if not flag:
                break
            run += 1
        return ("consecutive-" if run == count else "sporadic-") + name

    if hot[-1]:
        return side(hot, cold, up, down, "hot-spot")
    if cold[-1]:
        return side(cold, hot, down, up, "cold-spot")
    if sum(hot) * 10 >= 9 * m:
        return "historical-hot-spot"
    if sum(cold) * 10 >= 9 * m:
        return "historical-cold-spot"
    return "no-pattern"


def moran_row(y, a):
    """Global Moran's I, row-standardised weights, randomisation z (Cliff & Ord 1981), from
    a symmetric binary sparse matrix; rows without neighbours keep zero weights."""
    n = len(y)
    k = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, k, out=np.zeros_like(k), where=k > 0)
    w = sparse.diags(inv) @ a
    z = y - y.mean()
    s0 = w.sum()
    ww = w + w.T
    s1 = 0.5 * ww.multiply(ww).sum()
    s2 = ((np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2).sum()
    i = n / s0 * (z @ (w @ z)) / (z @ z)
    ei = -1.0 / (n - 1)
    b2 = n * (z ** 4).sum() / (z @ z) ** 2
    num = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0) - b2 * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
    var = num / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - ei * ei
    return i, (i - ei) / np.sqrt(var), k.mean()


def outlier_mask(d):
    """Locational outliers: nearest-neighbour distance >= mean + 3 population sd."""
    sd = d.std()
    return (d - d.mean()) / sd >= 3 if sd > 0 else np.zeros(len(d), bool)


def check_choices(folder, meta, points, cells, counts):
    """Recomputes the optimized hot spot analysis's choices from the published rules (see
    optimized.rs): the cell size from the incidents' spacing, the distances tried, Moran's I
    at each, the first peak or the k-nearest-neighbour fallback."""
    failures = []
    if meta.get("cell_size_chosen_by") == "Data":
        xy = np.unique(np.column_stack([points["x"], points["y"]]), axis=0)
        d = cKDTree(xy).query(xy, k=2)[0][:, 1]
        kept = d[~outlier_mask(d)]
        mean, med = kept.mean(), np.median(kept)
        larger, smaller = max(mean, med), min(mean, med)
        cell = round(larger * max(2.0, larger / smaller))
        print(f"cell size: {len(xy)} distinct locations, {int(outlier_mask(d).sum())} outliers, mean {mean:.3f} m, "
              f"median {med:.3f} m -> {cell} m (Rust: {float(meta['cell_size']):g} m)")
        if cell != float(meta["cell_size"]):
            failures.append("cell size differs")
    if meta.get("band_chosen_by") in ("Data", "Fallback"):
        centres = np.column_stack([cells["cx"], cells["cy"]])
        tree = cKDTree(centres)
        d = tree.query(centres, k=2)[0][:, 1]
        kept = d[~outlier_mask(d)]
        start, step = kept.max() * 1.0001, kept.mean()
        cap = np.sqrt(((centres - centres.mean(axis=0)) ** 2).sum(axis=1).mean())
        dists = start + step * np.arange(10)
        if dists[-1] > cap > start:
            dists = start + (cap - start) / 10 * np.arange(10)
        rust = read_csv(f"{folder}/autocorrelation.csv")
        worst_d = float(np.max(np.abs(dists - rust["distance"])))
        zs = []
        for dist in dists:
            pairs = tree.query_pairs(r=dist, output_type="ndarray")
            a = sparse.coo_matrix((np.ones(2 * len(pairs)), (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])),
                                  shape=(len(centres), len(centres))).tocsr()
            zs.append(moran_row(counts.astype(float), a)[1])
        zs = np.array(zs)
        worst_z = float(np.max(np.abs(zs - rust["z"])))
        peak = None
        gone_up = False
        for c in range(len(zs) - 1):
            if zs[c + 1] < zs[c] and gone_up and zs[c] > 1.65:
                peak = c
                break
            if zs[c + 1] > zs[c]:
                gone_up = True
        if peak is not None:
            band = dists[peak]
        else:
            kk = int(min(max(len(centres) // 20, 3), 30))
            band = min(tree.query(centres, k=kk + 1)[0][:, kk].mean(), cap)
        print(f"distance band: distances {dists[0]:.3f}..{dists[-1]:.3f} m (max diff {worst_d:.1e}), Moran's I z "
              f"max diff {worst_z:.1e}, {'peak' if peak is not None else 'no peak'} -> {band:.6f} m "
              f"(Rust: {float(meta['band']):.6f} m)")
        if worst_d > 1e-6 or worst_z > 1e-6 or abs(band - float(meta["band"])) > 1e-6:
            failures.append("distance band choice differs")
    return failures


def main(folder):
    meta = read_meta(f"{folder}/meta.txt")
    size, band = float(meta["cell_size"]), float(meta["band"])
    x0, y0 = float(meta["x0"]), float(meta["y0"])
    slices, k = int(meta["slices"]), int(meta["time_steps"])
    per = 3 if meta["quarters"] == "true" else 1
    cells = read_csv(f"{folder}/cells.csv")
    points = read_csv(f"{folder}/points.csv")
    n_cells = len(cells)
    failures = []

    # 1. counts from the points
    where = {(int(ix), int(iy)): i for i, (ix, iy) in enumerate(zip(cells["ix"], cells["iy"]))}
    pix = np.floor((points["x"] - x0) / size).astype(int)
    piy = np.floor((points["y"] - y0) / size).astype(int)
    loc = np.array([where.get((a, b), -1) for a, b in zip(pix, piy)])
    counts = np.bincount(loc[loc >= 0], minlength=n_cells)
    if (loc < 0).any():
        failures.append(f"{(loc < 0).sum()} kept points in no cell")
    if not np.array_equal(counts, cells["count"]):
        failures.append(f"cell counts differ in {(counts != cells['count']).sum()} cells")

    # 2. weights
    centres = np.column_stack([cells["cx"], cells["cy"]])
    pairs = cKDTree(centres).query_pairs(r=band, output_type="ndarray")
    a = sparse.coo_matrix(
        (np.ones(2 * len(pairs)), (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])),
        shape=(n_cells, n_cells),
    ).tocsr()

    # 3. Gi* with esda, FDR bins
    y = counts.astype(float)
    w = WSP(a).to_W(silence_warnings=True)
    w.transform = "B"
    g = G_Local(y, w, transform="B", star=True, permutations=0)
    z = np.asarray(g.Zs)
    p = 2 * norm.sf(np.abs(z))
    bins = fdr_bins(z, p)
    z_diff = float(np.max(np.abs(z - cells["z"])))
    bins_same = int((bins == cells["bin"]).sum())
    sig = multipletests(p, alpha=0.05, method="fdr_bh")[0]
    print(f"Gi* over {n_cells} cells (cell {size:g} m, band {band:g} m):")
    print(f"  max |z - esda z| = {z_diff:.2e}; bins identical in {bins_same} of {n_cells} cells")
    print(f"  reference: {int(sig.sum())} significant at FDR 0.05, {int((bins != 0).sum())} with a non-zero bin "
          f"(+3: {int((bins == 3).sum())}, +2: {int((bins == 2).sum())}, +1: {int((bins == 1).sum())}, "
          f"negative: {int((bins < 0).sum())})")
    if z_diff > Z_TOL:
        failures.append(f"Gi* z differs by {z_diff}")
    if bins_same != n_cells:
        failures.append(f"Gi* bins differ in {n_cells - bins_same} cells")

    # 4. space-time Gi*
    st = read_csv(f"{folder}/emerging_bins.csv")
    x = np.zeros((n_cells, slices))
    ok = points["slice"] >= 0
    np.add.at(x, (loc[ok & (loc >= 0)], points["slice"][ok & (loc >= 0)]), 1.0)
    rust_counts = st["count"].reshape(n_cells, slices)
    if not np.array_equal(x, rust_counts):
        failures.append(f"cube counts differ in {(x != rust_counts).sum()} bins")
    a_star = (a + sparse.identity(n_cells, format="csr")).tocsr()
    tw = np.zeros((slices, slices))
    for t in range(slices):
        tw[t, max(0, t - k): t + 1] = 1.0
    s_local = a_star @ x @ tw.T
    w_sum = np.outer(np.asarray(a_star.sum(axis=1)).ravel(), tw.sum(axis=1))
    n = x.size
    mean = x.sum() / n
    s = np.sqrt((x ** 2).sum() / n - mean ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        zst = (s_local - mean * w_sum) / (s * np.sqrt((n * w_sum - w_sum ** 2) / (n - 1)))
    zst = np.where(np.isfinite(zst), zst, 0.0)
    pst = 2 * norm.sf(np.abs(zst))
    bst = fdr_bins(zst.ravel(), pst.ravel()).reshape(n_cells, slices)
    rz = st["z"].reshape(n_cells, slices)
    rb = st["bin"].reshape(n_cells, slices)
    zst_diff = float(np.max(np.abs(zst - rz)))
    bst_same = int((bst == rb).sum())
    print(f"space-time Gi* over {n_cells} cells x {slices} slices (k = {k}, {per}-month slices):")
    print(f"  max |z - reference z| = {zst_diff:.2e}; bins identical in {bst_same} of {n} bins")
    if zst_diff > Z_TOL:
        failures.append(f"space-time z differs by {zst_diff}")
    if bst_same != n:
        failures.append(f"space-time bins differ in {n - bst_same} bins")

    # 5. Mann-Kendall and 6. categories
    em = read_csv(f"{folder}/emerging.csv")
    mk_z_diff = mk_p_diff = count_z_diff = 0.0
    s_same = count_s_same = cat_same = 0
    tally = {}
    for i in range(n_cells):
        t = pmk.original_test(zst[i])
        c = pmk.original_test(x[i])
        s_same += int(t.s == em["trend_s"][i])
        count_s_same += int(c.s == em["count_s"][i])
        mk_z_diff = max(mk_z_diff, abs(t.z - em["trend_z"][i]))
        mk_p_diff = max(mk_p_diff, abs(t.p - em["trend_p"][i]))
        count_z_diff = max(count_z_diff, abs(c.z - em["count_z"][i]))
        cat = classify(bst[i], t.z, t.p, slices)
        tally[cat] = tally.get(cat, 0) + 1
        cat_same += int(cat == em["category"][i])
    print(f"Mann-Kendall (pymannkendall {pmk.__version__}) on each cell's z-scores and counts:")
    print(f"  S identical in {s_same} (z-scores) and {count_s_same} (counts) of {n_cells} cells; "
          f"max |Z diff| {mk_z_diff:.2e} (z-scores), {count_z_diff:.2e} (counts); max |p diff| {mk_p_diff:.2e}")
    print(f"emerging categories identical in {cat_same} of {n_cells} cells; reference tally:")
    for name in sorted(tally, key=lambda c: -tally[c]):
        print(f"  {name}: {tally[name]}")
    if s_same != n_cells or count_s_same != n_cells or mk_z_diff > 1e-9 or count_z_diff > 1e-9:
        failures.append("Mann-Kendall differs")
    if cat_same != n_cells:
        failures.append(f"categories differ in {n_cells - cat_same} cells")

    failures += check_choices(folder, meta, points, cells, counts)

    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: counts, Gi* bins, space-time bins, Mann-Kendall, categories and the chosen cell size and band agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
