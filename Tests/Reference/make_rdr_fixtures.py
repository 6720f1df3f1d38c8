"""Reference regions for the `RDR` target (Tests/RDRTests): the selection of RDR (Chang, Kwon, Choi,
"Understanding Distributed Representations of Concepts in Deep Neural Networks without
Supervision", AAAI 2024, arXiv 2312.17285), `RDR.selection(k, t)` of METHODS.md §3.4, written out
with plain Python loops over numpy 0/1 matrices.

Run once (numpy only):
    python3 Tests/Reference/make_rdr_fixtures.py

The rules, with the stable tie-breaking the Swift port uses where the reference's numpy sorts are
unstable:
  * distances: Hamming, d(i) = number of units where row i differs from the target;
  * neighbours of a row target: the target first, then every other row by (distance, index); S = the
    first k. An external target (a configuration that is not a row): S = the target plus the k - 1
    rows first by (distance, index);
  * p_j = share of S with unit j on; candidates U = {j : p_j in {0, 1}};
  * q_j = share of all N rows with unit j on;
  * score_j = |p_j - q_j| as an exact fraction (so equal scores are true ties);
  * principal units = U sorted by (score descending, unit ascending), first t;
  * states = p_j > 1/2; members = rows equal to the states on every principal unit (all rows when
    there is no principal unit).

The matrices are seeded and structured: rows are noisy copies of a few cluster prototypes, with some
constant units and exact duplicate rows (so the target-first rule and distance ties matter), and
unit counts that are and are not multiples of 64. Writes Tests/TestSupport/Fixtures/rdr/regions.json.
"""
import json
import os
from fractions import Fraction

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "rdr")


def make_matrix(rng, rows, units, clusters, flip, duplicates):
    """Noisy copies of `clusters` random prototypes; 3 constant units; `duplicates` rows copied
    over later rows."""
    prototypes = rng.random((clusters, units)) < 0.5
    labels = rng.integers(0, clusters, size=rows)
    noise = rng.random((rows, units)) < flip
    m = prototypes[labels] ^ noise
    m[:, 0] = True            # always on
    m[:, units // 2] = False  # always off
    m[:, units - 1] = True    # the last unit, in the last word's tail region
    for _ in range(duplicates):
        src, dst = rng.integers(0, rows, size=2)
        m[dst] = m[src]
        labels[dst] = labels[src]
    return m.astype(np.uint8), labels


def hamming(a, b):
    return int(sum(1 for x, y in zip(a, b) if x != y))


def select(C, seed_rows, k, t):
    """Steps 2-5 for the seed configurations (a list of 0/1 rows)."""
    n, d = C.shape
    p = [Fraction(sum(int(s[j]) for s in seed_rows), k) for j in range(d)]
    candidates = [j for j in range(d) if p[j] == 0 or p[j] == 1]
    q = [Fraction(sum(int(C[i, j]) for i in range(n)), n) for j in range(d)]
    score = {j: abs(p[j] - q[j]) for j in candidates}
    principal = sorted(candidates, key=lambda j: (-score[j], j))[:t]
    states = [p[j] > Fraction(1, 2) for j in principal]
    members = [i for i in range(n) if all(bool(C[i, j]) == s for j, s in zip(principal, states))]
    return dict(principal_units=principal, states=states, scores=[float(score[j]) for j in principal],
                candidates=len(candidates), members=members)


def region_for_row(C, target, k, t):
    n = C.shape[0]
    dist = [hamming(C[target], C[i]) for i in range(n)]
    order = sorted(range(n), key=lambda i: (0 if i == target else 1, dist[i], i))
    s = order[:k]
    out = select(C, [C[i] for i in s], k, t)
    out.update(target=target, neighbours=[[i, dist[i]] for i in s])
    return out


def region_for_bits(C, bits, k, t):
    n = C.shape[0]
    dist = [hamming(bits, C[i]) for i in range(n)]
    s = sorted(range(n), key=lambda i: (dist[i], i))[:k - 1]
    out = select(C, [bits] + [C[i] for i in s], k, t)
    out.update(target=None, neighbours=[[i, dist[i]] for i in s])
    return out


def bits_text(row):
    return "".join("1" if b else "0" for b in row)


def case(name, seed, rows, units, clusters, flip, duplicates, settings):
    rng = np.random.default_rng(seed)
    C, labels = make_matrix(rng, rows, units, clusters, flip, duplicates)
    # Two external targets: a noisy prototype copy and an all-zero configuration.
    external = [C[int(rng.integers(0, rows))] ^ (rng.random(units) < 0.05).astype(np.uint8),
                np.zeros(units, dtype=np.uint8)]
    regions = []
    for k, t in settings:
        for target in range(rows):
            r = region_for_row(C, target, k, t)
            r.update(k=k, t=t)
            regions.append(r)
        for e, bits in enumerate(external):
            r = region_for_bits(C, bits, k, t)
            r.update(k=k, t=t, external=e)
            regions.append(r)
    return dict(name=name, rows=[bits_text(r) for r in C], labels=[int(x) for x in labels],
                external=[bits_text(b) for b in external], regions=regions)


def main():
    cases = [
        case("clusters_40x70", 20240201, 40, 70, 4, 0.08, 4, [(3, 2), (8, 10), (5, 200)]),
        case("clusters_30x128", 20240202, 30, 128, 3, 0.15, 3, [(4, 5), (1, 3), (30, 6)]),
        case("noisy_36x150", 20240203, 36, 150, 6, 0.3, 6, [(8, 10), (6, 1), (2, 12)]),
    ]
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "regions.json")
    with open(path, "w") as f:
        json.dump(dict(numpy=np.__version__, cases=cases), f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: {sum(len(c['regions']) for c in cases)} regions")


if __name__ == "__main__":
    main()
