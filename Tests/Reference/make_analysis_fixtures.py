"""Reference values for the `Analysis` target (Tests/AnalysisTests): outlier scores from scikit-learn
and pyod, ROC-AUC / ROC curve / average precision from scikit-learn, Mann–Whitney p-values from
scipy, classical MDS from a numpy eigendecomposition, and umap-learn's fuzzy graph, (a, b) curve
parameters, embedding and trustworthiness.

Run once in a venv (numpy only needs the versions recorded in each file's "versions" entry):
    python3 -m venv /tmp/anvenv && /tmp/anvenv/bin/pip install numpy scipy scikit-learn pyod umap-learn
    /tmp/anvenv/bin/python Tests/Reference/make_analysis_fixtures.py

Inputs are small and seeded. Matrices are rounded (features to 4 decimals, distances to 10) *before*
the references are computed, so the JSON holds short decimal numbers that Swift parses to exactly
the doubles Python used. The script writes JSON files under Tests/TestSupport/Fixtures/analysis/.
"""
import json
import os
import warnings

import numpy as np
import scipy
import sklearn
from scipy.stats import mannwhitneyu
from sklearn.ensemble import IsolationForest
from sklearn.manifold import trustworthiness
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from sklearn.neighbors import LocalOutlierFactor

OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "analysis")
VERSIONS = {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__}


def write(name, payload):
    os.makedirs(OUT, exist_ok=True)
    payload = {"versions": VERSIONS, **payload}
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(payload, f, separators=(",", ":"))
    print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


def listify(a):
    return np.asarray(a, dtype=np.float64).tolist()


def euclidean(x):
    d = np.sqrt(np.maximum(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0))
    d = np.round(d, 10)
    np.fill_diagonal(d, 0)
    return d


def ea_distance(acts):
    """DORA's layer-wise EA distance (METHODS.md §1.4): sqrt((1 − cos) / 2), symmetrised, zero diagonal."""
    u = acts / np.maximum(np.linalg.norm(acts, axis=1, keepdims=True), 1e-5)
    d = np.sqrt((1 - np.clip(u @ u.T, -1, 1)) / 2)
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0)
    return np.round(d, 10)


def datasets():
    rng = np.random.default_rng(20240611)
    # Two Gaussian clusters in 5-D plus four planted outliers (the last four rows).
    a = rng.normal(0, 1, (22, 5))
    b = rng.normal(0, 1.5, (22, 5)) + np.array([6, -4, 3, 0, 2])
    outliers = rng.normal(0, 1, (4, 5)) * 2 + np.array([[18, 10, -12, 8, 0], [-14, 12, 9, -10, 6],
                                                        [5, -16, -9, 14, -8], [-9, -6, 18, 12, 14]])
    features = np.round(np.vstack([a, b, outliers]), 4)
    # 48 "neurons" × 30 "signals": three groups of non-negative responses and three odd neurons.
    proto = np.maximum(rng.normal(0, 1, (3, 30)), 0) + 0.05
    groups = np.repeat(np.arange(3), [15, 15, 15])
    acts = proto[groups] * rng.uniform(0.5, 2, (45, 1)) + np.abs(rng.normal(0, 0.25, (45, 30)))
    odd = np.abs(rng.normal(0, 1, (3, 30))) ** 3
    activations = np.round(np.vstack([acts, odd]), 4)
    return features, activations


def outlier_fixtures(features, activations):
    from pyod.models.knn import KNN
    from pyod.models.pca import PCA as PyodPCA
    import pyod
    cases = {}
    for name, x, dist in [("blobs", features, euclidean(features)),
                          ("ea", activations, ea_distance(activations))]:
        case = {"features": listify(x), "distances": listify(dist)}
        for k in (20, 5):
            lof = LocalOutlierFactor(n_neighbors=k, metric="precomputed", contamination=0.05)
            labels = lof.fit_predict(dist) == -1
            scores = -lof.negative_outlier_factor_
            # The pyod-style percentile rule flags the same set (the Swift detect() relies on it).
            assert (labels == (scores > np.percentile(scores, 95))).all()
            case[f"lof{k}"] = listify(scores)
            case[f"lof{k}_outliers"] = [int(i) for i in np.flatnonzero(labels)]
        pca = PyodPCA(contamination=0.05).fit(x)
        case["pca"] = listify(pca.decision_scores_)
        case["pca_outliers"] = [int(i) for i in np.flatnonzero(pca.labels_)]
        case["pca_threshold"] = float(pca.threshold_)
        knn = KNN(n_neighbors=5, method="largest", metric="precomputed", contamination=0.05).fit(dist)
        manual = np.sort(dist + np.diag(np.full(len(dist), np.inf)), axis=1)[:, 4]
        assert np.array_equal(knn.decision_scores_, manual)
        case["knn"] = listify(knn.decision_scores_)
        case["knn_outliers"] = [int(i) for i in np.flatnonzero(knn.labels_)]
        forest = IsolationForest(random_state=0).fit(x)
        case["iforest_sklearn"] = listify(-forest.score_samples(x))
        cases[name] = case
    write("outliers.json", {"pyod": pyod.__version__, "fraction": 0.05, "planted": [44, 45, 46, 47],
                            "cases": cases})


def roc_fixtures():
    rng = np.random.default_rng(7)
    cases = []
    labels = rng.uniform(size=60) < 0.4
    tied = np.round(rng.normal(0, 1, 60) + 0.8 * labels, 1)            # many ties
    cases.append(("tied", tied, labels))
    labels2 = rng.uniform(size=41) < 0.3
    cases.append(("continuous", np.round(rng.normal(0, 1, 41) + labels2, 6), labels2))
    labels3 = np.array([True, False, True, False, False, True, False, False])
    cases.append(("constant", np.full(8, 0.25), labels3))
    cases.append(("coarse", np.array([3, 1, 2, 2, 3, 1, 1, 2, 3, 3], dtype=float),
                  np.array([1, 0, 1, 0, 0, 0, 1, 1, 1, 0], dtype=bool)))
    out = []
    for name, s, y in cases:
        fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
        out.append({"name": name, "scores": listify(s), "labels": [bool(v) for v in y],
                    "auc": float(roc_auc_score(y, s)), "fpr": listify(fpr), "tpr": listify(tpr),
                    "ap": float(average_precision_score(y, s))})
    write("roc.json", {"cases": out})


def mann_whitney_fixtures():
    rng = np.random.default_rng(11)
    pairs = [("ties", np.round(rng.normal(0.3, 1, 25), 1), np.round(rng.normal(0, 1, 30), 1)),
             ("continuous", np.round(rng.normal(0, 1, 40), 8), np.round(rng.normal(0.2, 1.3, 35), 8)),
             ("extreme", np.round(rng.normal(5, 1, 200), 6), np.round(rng.normal(0, 1, 300), 6)),
             ("constant", np.full(6, 2.0), np.full(9, 2.0)),
             ("small", np.array([1.5, 3.25, 0.5]), np.array([2.0, 4.0, 5.5, 0.75])),
             ("integers", rng.integers(0, 4, 50).astype(float), rng.integers(1, 5, 45).astype(float))]
    out = []
    for name, x, y in pairs:
        entry = {"name": name, "x": listify(x), "y": listify(y)}
        for alt in ("two-sided", "greater", "less"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = mannwhitneyu(x, y, alternative=alt, method="asymptotic")
            entry[alt] = float(r.pvalue)
            entry["u1"] = float(r.statistic)
        out.append(entry)
    write("mannwhitney.json", {"cases": out})


def classical_mds_reference(d, dims):
    n = len(d)
    j = np.eye(n) - 1.0 / n
    b = -0.5 * j @ (d ** 2) @ j
    w, v = np.linalg.eigh(b)
    order = np.argsort(w)[::-1][:dims]
    x = v[:, order] * np.sqrt(np.maximum(w[order], 0))
    for c in range(dims):                                 # largest-|x| coordinate positive per axis
        if x[np.argmax(np.abs(x[:, c])), c] < 0:
            x[:, c] = -x[:, c]
    return x, w[order]


def embedding_fixtures(activations):
    import umap
    from umap.umap_ import find_ab_params, fuzzy_simplicial_set
    rng = np.random.default_rng(3)
    points = np.round(rng.normal(0, 1, (30, 3)) * np.array([3, 2, 0.5]), 4)
    d_points = euclidean(points)
    d_ea = ea_distance(activations)
    mds_points, eig_points = classical_mds_reference(d_points, 2)
    mds_ea, eig_ea = classical_mds_reference(d_ea, 2)
    ab = {f"{md}": list(map(float, find_ab_params(1.0, md))) for md in (0.1, 0.5, 0.0)}
    graph, sigmas, rhos = fuzzy_simplicial_set(d_ea, 15, np.random.RandomState(0), "precomputed")
    graph = graph.tocoo()
    order = np.lexsort((graph.col, graph.row))
    reducer = umap.UMAP(metric="precomputed", random_state=0)
    emb = reducer.fit_transform(d_ea)
    tw = float(trustworthiness(d_ea, emb, n_neighbors=5, metric="precomputed"))
    write("embedding.json", {
        "umap": umap.__version__,
        "points": listify(points), "points_distances": listify(d_points),
        "mds_points": listify(mds_points), "mds_points_eigenvalues": listify(eig_points),
        "ea_distances": listify(d_ea), "mds_ea": listify(mds_ea), "mds_ea_eigenvalues": listify(eig_ea),
        "ab": ab, "sigmas": listify(sigmas), "rhos": listify(rhos),
        "graph_rows": [int(v) for v in graph.row[order]], "graph_cols": [int(v) for v in graph.col[order]],
        "graph_values": listify(np.round(graph.data[order].astype(np.float64), 12)),
        "umap_embedding": listify(np.round(emb.astype(np.float64), 6)),
        "umap_trustworthiness": tw,
        "trustworthiness_of_umap_embedding": float(trustworthiness(
            d_ea, np.round(emb.astype(np.float64), 6), n_neighbors=5, metric="precomputed")),
    })


if __name__ == "__main__":
    features, activations = datasets()
    outlier_fixtures(features, activations)
    roc_fixtures()
    mann_whitney_fixtures()
    embedding_fixtures(activations)
