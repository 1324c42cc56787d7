"""Cross-check Alliance's Gi*, Gi, local Moran and global Moran against PySAL's esda.

Optional, not part of the Rust build. Usage (from the repository root):

    python3 -m venv /tmp/crosscheck-venv
    /tmp/crosscheck-venv/bin/pip install esda libpysal numpy scipy
    cargo run -q -p alliance-core --example spatial_crosscheck > /tmp/alliance-spatial.csv
    /tmp/crosscheck-venv/bin/python tools/crosscheck/crosscheck.py /tmp/alliance-spatial.csv

Exits non-zero if any analytic value differs by more than 1e-9, or if a pseudo p-value
(p_sim, R = 9,999 conditional permutations) differs from esda's by more than Monte Carlo
error allows.

p_sim cannot agree exactly: the two draw different random permutations. The check is:

1. esda's own simulated statistics (`keep_simulations=True`) are turned into p-values with
   Alliance's conventions (directed: ties count as extreme in both tails; two-sided: as far
   from the conditional mean E[T] = k(S - y_i)/(n - 1) of the neighbour sum, or further),
   and Alliance's p-values must lie within 4.5 standard errors of those, with the standard
   error of a difference of two independent estimates, sqrt(2 p (1 - p) / R) (about 0.3
   expected exceedances in the 240 p-values if every one is right);
2. esda's own p_sim (directed, ties in the upper tail only, compared as floats) is compared
   with Alliance's directed p_sim the same way, and every cell that differs by more must be
   within that cell's tie mass (ties / (R + 1)): the ties esda leaves out of the lower tail,
   or splits by floating-point rounding.
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
    if "gi_star_psim_dir" in data.dtype.names:
        ok &= check_p_sim(data, y, w, int(meta["permutations"]))

    for name, diff in worst.items():
        flag = "ok" if diff <= TOL else "DIFFERS"
        ok &= diff <= TOL
        print(f"{name:40s} max |diff| = {diff:.3e}  {flag}")
    return 0 if ok else 1


def our_p_values(sims, observed, centre, scale):
    """Alliance's conventions applied to esda's simulated statistics.

    sims: (n, R); observed, centre: (n,); scale: (n,) magnitudes for the tie tolerance
    (esda compares floats, so an exact tie can come out a rounding error apart)."""
    r = sims.shape[1]
    tol = 1e-9 * np.maximum(scale, 1.0)[:, None]
    obs = observed[:, None]
    at_least = (sims >= obs - tol).sum(axis=1)
    at_most = (sims <= obs + tol).sum(axis=1)
    as_far = (np.abs(sims - centre[:, None]) >= np.abs(obs - centre[:, None]) - tol).sum(axis=1)
    ties = (np.abs(sims - obs) <= tol).sum(axis=1)
    directed = (np.minimum(at_least, at_most) + 1.0) / (r + 1.0)
    two_sided = (as_far + 1.0) / (r + 1.0)
    return directed, two_sided, ties


def compare_p(name, ours, reference, r, worst_allowed=4.5):
    p = np.clip((ours + reference) / 2.0, 1.0 / (r + 1), 1.0)
    se = np.sqrt(2.0 * p * (1.0 - p) / r) + 1e-12
    zs = (ours - reference) / se
    bad = np.abs(zs) > worst_allowed
    print(f"{name:52s} mean diff {np.mean(ours - reference):+.5f}, max |z| {np.max(np.abs(zs)):.2f}, "
          f"beyond {worst_allowed} SE: {int(bad.sum())}  {'ok' if not bad.any() else 'DIFFERS'}")
    return zs, bad


def significance_agreement(name, ours, reference, alpha=0.05):
    a, b = ours < alpha, reference < alpha
    print(f"{name:52s} significant at {alpha}: Alliance {int(a.sum())}, esda {int(b.sum())}, "
          f"disagree {int((a != b).sum())} (borderline p near {alpha})")


def check_p_sim(data, y, w, r):
    n = len(y)
    total = y.sum()
    k = np.array([w.cardinalities[i] for i in range(n)], dtype=float)
    seed = 12345
    ok = True
    print(f"p_sim, {r} conditional permutations (different random draws on each side):")

    # Gi*: G*_r = (y_i + neighbour sum_r) / S, so the neighbour sum is exact from esda's draws.
    gs = G_Local(y, w, transform="B", star=True, permutations=r, seed=seed, keep_simulations=True, n_jobs=1)
    sims = np.rint(gs.rGs * total - y[:, None])
    observed = np.rint(np.asarray(gs.Gs) * total - y)
    centre = k * (total - y) / (n - 1)
    ok &= compare_draws("Gi*", "on esda draws", data, "gi_star", gs.p_sim, sims, observed, centre, r)

    # Local Moran (row): I_r = z_i * mean(z of the k drawn neighbours) * (n - 1) / sum(z^2).
    lm = Moran_Local(y, w, transformation="r", permutations=r, seed=seed, keep_simulations=True, n_jobs=1)
    z = np.asarray(lm.z, dtype=float)  # esda standardises: (y - mean) / sd
    scaling = (n - 1) / (z * z).sum()
    sims = np.asarray(lm.rlisas, dtype=float)
    observed = np.asarray(lm.Is, dtype=float)
    centre = z * (-z / (n - 1)) * scaling  # E[mean of k others' z] = -z_i / (n - 1)
    drift = np.max(np.abs(sims.mean(axis=1) - centre)) / np.max(np.abs(observed))
    assert drift < 0.05, f"the conditional mean does not match esda's scaling ({drift})"
    ok &= compare_draws("local Moran", "", data, "lm_row", lm.p_sim, sims, observed, centre, r)
    return ok


def compare_draws(name, draws, data, key, esda_p, sims, observed, centre, r):
    """Alliance's p_sim (`<key>_psim_dir`, `<key>_psim_two`) against Alliance's rule applied
    to esda's draws of the statistic `name`, and against esda's own p_sim; True when they
    agree."""
    directed, two_sided, ties = our_p_values(sims, observed, centre, np.abs(observed))
    ok = True
    for side, suffix, ours in (("directed", "dir", directed), ("two-sided", "two", two_sided)):
        what = f"{name} p_sim {side} vs Alliance's rule" + (f" {draws}" if draws else "")
        _, bad = compare_p(what, data[f"{key}_psim_{suffix}"], ours, r)
        ok &= not bad.any()
    ok &= esda_own(name, data[f"{key}_psim_dir"], np.asarray(esda_p, dtype=float), sims, observed, ties, r)
    significance_agreement(f"{name} (directed)", data[f"{key}_psim_dir"], directed)
    return ok


def esda_own(name, ours, esda_p, sims, observed, ties, r):
    """esda's own p_sim against Alliance's directed p_sim: equal up to Monte Carlo error,
    except for ties. esda's fold leaves ties out of the lower tail, and esda compares
    floating-point statistics, so a tie can also be lost (or gained) to rounding in either
    tail; Alliance compares integer neighbour sums. A difference beyond Monte Carlo error
    must therefore be within the tie mass ties / (R + 1) of that cell."""
    p = np.clip((ours + esda_p) / 2.0, 1.0 / (r + 1), 1.0)
    se = np.sqrt(2.0 * p * (1.0 - p) / r) + 1e-12
    diff = np.abs(ours - esda_p)
    raw_bad = diff > 4.5 * se
    bad = diff > 4.5 * se + ties / (r + 1.0)
    exact_ties = (sims == observed[:, None]).sum(axis=1)
    lost = int((exact_ties < ties).sum())
    print(f"{name + ' esda p_sim vs Alliance directed':52s} beyond 4.5 SE: {int(raw_bad.sum())}, all with ties "
          f"({int((raw_bad & (ties > 0)).sum())}); beyond the tie mass too: {int(bad.sum())}; cells where float "
          f"rounding split a tie: {lost}  {'ok' if not bad.any() else 'DIFFERS'}")
    return not bad.any()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin"))
