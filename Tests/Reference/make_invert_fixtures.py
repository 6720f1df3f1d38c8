"""Reference explanations for the `Invert` target (Tests/InvertTests): INVERT's constrained beam
search (Bykov et al., "Labeling Neural Representations with Inverse Recognition", NeurIPS 2023,
arXiv 2311.13594) written out with plain loops over numpy boolean masks, AUCs from scipy's
mid-ranks and p-values from scipy's `mannwhitneyu`.

Run once in a venv:
    python3 -m venv /tmp/invvenv && /tmp/invvenv/bin/pip install numpy scipy
    /tmp/invvenv/bin/python Tests/Reference/make_invert_fixtures.py

The rules are those of METHODS.md §2.5 with the fixes the Swift port makes (raw activations, no
sigmoid; optional de-duplication of beam entries by mask):
  * literals: for each non-constant concept j in column order, c_j then ~c_j;
  * admissible: 0 < T < 1 and min_fraction <= T <= max_fraction, T = |mask| / N;
  * depth 1: admissible literals, stable-sorted by AUC (descending for "positive", ascending for
    "negative"), de-duplicated by mask keeping the first (unless reference_beam), first B kept;
  * pool: all literals stable-sorted by differentiability (descending), cut to limit_search;
  * depth 2..L: the beam, then for each beam entry b and pool literal l: b & l, b | l if admissible;
    de-duplicated by mask keeping the first (unless reference_beam); stable sort by AUC; first B.

AUC = (R1 - n1(n1+1)/2) / (n1 n0) with R1 the positives' mid-rank sum; mid-ranks are multiples of
1/2, so these sums are exact and Swift computes bit-identical AUCs (ties then break identically).
Differentiability is |2U - n1 n0| / (n1 n0) (= 2|0.5 - AUC|, symmetric in a literal and its negation).
Activations are rounded to one or two decimals and then to float32 (what the Swift API takes)
before anything is computed, so the JSON's short decimals parse back to the same values.
Writes Tests/TestSupport/Fixtures/invert/search.json.
"""
import json
import os

import numpy as np
import scipy
from scipy.stats import mannwhitneyu, rankdata

OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "invert")
VERSIONS = {"numpy": np.__version__, "scipy": scipy.__version__}

NAMES = ["sky", "water", "boat", "tree", "grass", "dog", "cat", "person", "car", "road",
         "tree_copy", "unicorn"]


def make_data():
    """300 images, 12 concepts (one a copy of "tree", one never present), 5 neurons with ties."""
    rng = np.random.default_rng(20231122)
    n = 300
    p = [0.35, 0.3, 0.0, 0.25, 0.3, 0.12, 0.1, 0.4, 0.15, 0.2]
    labels = np.zeros((n, len(NAMES)), dtype=bool)
    for j, pj in enumerate(p):
        labels[:, j] = rng.random(n) < pj
    labels[:, 2] = labels[:, 1] & (rng.random(n) < 0.4)          # boats appear on water
    labels[:, 9] |= labels[:, 8] & (rng.random(n) < 0.7)         # cars mostly on roads
    labels[:, 10] = labels[:, 3]                                  # duplicated column
    labels[:, 11] = False                                         # constant column
    f = labels.astype(np.float64)
    noise = rng.normal(size=(n, 5))
    raw = np.stack([
        np.round(2.0 * f[:, 2] + 0.8 * f[:, 1] - 0.6 * f[:, 7] + 0.7 * noise[:, 0], 1),
        np.clip(np.round(f[:, 5] + f[:, 6] + 0.8 * noise[:, 1] + 0.5), 0, 3),      # 4 values
        np.round(25 + 4 * np.maximum(f[:, 3], f[:, 4]) - 3 * f[:, 3] * f[:, 4] + 2 * noise[:, 2], 2),
        np.ones(n),                                                                 # constant
        np.round(-2.5 * f[:, 0] + 1.2 * f[:, 9] + noise[:, 4], 2),
    ], axis=1)
    acts = raw.astype(np.float32).astype(np.float64)
    return labels, raw, acts


def text(formula, names):
    kind = formula[0]
    if kind == "lit":
        _, j, neg = formula
        return ("~" if neg else "") + names[j]
    left, right = formula[1], formula[2]
    op = " & " if kind == "and" else " | "
    left_text = text(left, names)
    if left[0] in ("and", "or") and left[0] != kind:
        left_text = "(" + left_text + ")"
    return left_text + op + text(right, names)


def evaluate(formula, labels):
    kind = formula[0]
    if kind == "lit":
        _, j, neg = formula
        return ~labels[:, j] if neg else labels[:, j].copy()
    left, right = evaluate(formula[1], labels), evaluate(formula[2], labels)
    return left & right if kind == "and" else left | right


def score(mask, ranks):
    n = len(ranks)
    n1 = int(mask.sum())
    n0 = n - n1
    r1 = float(ranks[mask].sum())
    u = r1 - n1 * (n1 + 1) / 2
    return {"auc": u / (n1 * n0), "differentiability": abs(2 * u - n1 * n0) / (n1 * n0),
            "fraction": n1 / n}


def admissible(mask, config):
    n = len(mask)
    n1 = int(mask.sum())
    if n1 == 0 or n1 == n:
        return False
    t = n1 / n
    return config["min_fraction"] <= t <= config["max_fraction"]


def entry(formula, length, labels, ranks):
    mask = evaluate(formula, labels)
    return {"formula": formula, "length": length, "mask": mask, **score(mask, ranks)}


def dedup(entries, config):
    if config["reference_beam"]:
        return entries
    seen, out = set(), []
    for e in entries:
        key = e["mask"].tobytes()
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def by_auc(entries, config):
    sign = -1.0 if config["mode"] == "positive" else 1.0
    return sorted(entries, key=lambda e: sign * e["auc"])      # sorted() is stable


def invert(acts, labels, config):
    ranks = rankdata(acts, method="average")
    n = labels.shape[0]
    literals = []
    for j in range(labels.shape[1]):
        count = int(labels[:, j].sum())
        if count == 0 or count == n:
            continue
        literals.append(entry(("lit", j, False), 1, labels, ranks))
        literals.append(entry(("lit", j, True), 1, labels, ranks))

    beam = [e for e in literals if admissible(e["mask"], config)]
    beam = dedup(by_auc(beam, config), config)[:config["beam_size"]]

    pool = sorted(literals, key=lambda e: -e["differentiability"])
    if config["limit_search"] is not None:
        pool = pool[:config["limit_search"]]

    for length in range(2, config["length"] + 1):
        candidates = list(beam)
        for b in beam:
            for lit in pool:
                for kind in ("and", "or"):
                    formula = (kind, b["formula"], lit["formula"])
                    if admissible(evaluate(formula, labels), config):
                        candidates.append(entry(formula, length, labels, ranks))
        beam = by_auc(dedup(candidates, config), config)[:config["beam_size"]]

    out = []
    for e in beam:
        mask = e["mask"]
        p = mannwhitneyu(acts[mask], acts[~mask], alternative="two-sided", method="asymptotic",
                         use_continuity=True).pvalue
        out.append({"text": text(e["formula"], NAMES), "length": e["length"], "auc": e["auc"],
                    "differentiability": e["differentiability"], "concept_fraction": e["fraction"],
                    "p_value": float(min(p, 1.0))})
    return out


CONFIGS = {
    "default": {},
    "negative": {"mode": "negative"},
    "limit6_b4": {"limit_search": 6, "beam_size": 4},
    "band_10_30": {"min_fraction": 0.1, "max_fraction": 0.3},
    "wide_b5": {"min_fraction": 0.05, "max_fraction": 1.0, "beam_size": 5},
    "reference": {"reference_beam": True},
    "reference_negative_limit8_b4": {"reference_beam": True, "mode": "negative", "limit_search": 8,
                                     "beam_size": 4},
    "l4_b2": {"length": 4, "beam_size": 2},
    "l1_b5": {"length": 1, "beam_size": 5},
}


def main():
    labels, raw, acts = make_data()
    n, k = raw.shape
    cases = []
    for name, overrides in CONFIGS.items():
        config = {"length": 3, "beam_size": 3, "min_fraction": 0.0, "max_fraction": 0.5,
                  "mode": "positive", "limit_search": None, "reference_beam": False, **overrides}
        results = [invert(acts[:, i], labels, config) for i in range(k)]
        cases.append({"name": name, "configuration": config, "results": results})
        print(name, [r[0]["text"] if r else None for r in results])

    concept_aucs = []
    for i in range(k):
        ranks = rankdata(acts[:, i], method="average")
        row = []
        for j in range(labels.shape[1]):
            count = int(labels[:, j].sum())
            row.append(None if count in (0, n) else score(labels[:, j], ranks)["auc"])
        concept_aucs.append(row)

    payload = {"versions": VERSIONS, "names": NAMES,
               "labels": labels.astype(int).tolist(), "activations": raw.tolist(),
               "concept_aucs": concept_aucs, "cases": cases}
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "search.json")
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
