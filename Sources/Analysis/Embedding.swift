import Foundation
import NNRuntime

/// 2-D maps of a distance matrix for DORA's "representation atlas" (METHODS.md §1.6): UMAP, as the
/// reference notebooks use (umap-learn, `metric="precomputed"`), and classical MDS as a light,
/// deterministic alternative; plus trustworthiness to measure how well a map keeps neighbourhoods.
///
/// Like the outlier scores, these never trap: a matrix ``AnalysisError/checkDistances(_:minimumPoints:)``
/// rejects (not square, NaN, negative) gives one row of NaN per input row.
public enum Embedding {
    /// Classical (Torgerson–Gower) multidimensional scaling: the top `dimensions` eigenpairs (λ, v)
    /// of the double-centred matrix B = −½·J·D²·J give coordinates v·√max(λ, 0).
    ///
    /// For Euclidean distances this recovers the points up to rotation, reflection and translation, and
    /// with `dimensions` ≥ their rank it preserves every distance. For other distances (e.g. DORA's EA
    /// distance) it is the best rank-`dimensions` fit of B; axes with negative eigenvalues are zero.
    /// The eigenpairs come from LAPACK's `dsyevr`; each axis is flipped so its largest-magnitude
    /// coordinate is positive, which makes the output deterministic. Axes beyond n are zero.
    public static func classicalMDS(distances: [[Double]], dimensions: Int = 2) -> [[Double]] {
        let dims = max(0, dimensions)
        guard AnalysisError.validDistances(distances, minimumPoints: 1) else {
            return [[Double]](repeating: [Double](repeating: .nan, count: dims), count: distances.count)
        }
        let n = distances.count
        var out = [[Double]](repeating: [Double](repeating: 0, count: dims), count: n)
        let used = min(dims, n)
        guard used > 0 else { return out }
        let gram = Dense.doubleCentredGram(distances)
        guard let eigen = SymmetricEigen.decompose(gram, n: n, ranks: (n - used)...(n - 1)) else {
            return [[Double]](repeating: [Double](repeating: .nan, count: dims), count: n)
        }
        for axis in 0..<used {
            let rank = used - 1 - axis                       // eigenvalues come ascending
            let length = max(eigen.values[rank], 0).squareRoot()
            var coordinates = eigen.vectors[rank].map { $0 * length }
            SymmetricEigen.fixSign(&coordinates)
            for i in 0..<n { out[i][axis] = coordinates[i] }
        }
        return out
    }

    /// UMAP (McInnes, Healy & Melville 2018, arXiv 1802.03426) of a precomputed distance matrix in two
    /// dimensions, following umap-learn 0.5 with `metric="precomputed"` and its defaults.
    ///
    /// 1. Exact k-nearest neighbours from the matrix, the point itself included (k = `neighbours`,
    ///    at most n − 1, at least 2).
    /// 2. Smooth-kNN distances ρᵢ, σᵢ by bisection and directed memberships exp(−(d − ρᵢ)/σᵢ),
    ///    symmetrised by the fuzzy union a + b − ab.
    /// 3. Edges lighter than max/`epochs` dropped; the curve 1/(1 + a·d^(2b)) fitted to `minDistance`
    ///    with spread 1 (a ≈ 1.577, b ≈ 0.895 for 0.1, like `find_ab_params`).
    /// 4. Spectral initialisation from the normalised graph Laplacian (components laid out apart),
    ///    scaled to [0, 10]; uniform noise when the eigen-solver fails.
    /// 5. SGD with 5 negative samples per positive sample, learning rate 1 decaying linearly, gradient
    ///    clip 4, for `epochs` epochs (default 500 for n ≤ 10 000, else 200).
    ///
    /// One SplitMix64 stream seeded with `seed` drives every random choice in a fixed order, so the
    /// result is identical for a seed (umap-learn's layout is not reproduced bit for bit: its random
    /// streams differ). Fewer than 4 points get the classical-MDS layout instead.
    public static func umap(distances: [[Double]], neighbours: Int = 15, minDistance: Double = 0.1,
                            epochs: Int? = nil, seed: UInt64 = 0) -> [[Double]] {
        guard AnalysisError.validDistances(distances, minimumPoints: 1) else {
            return [[Double]](repeating: [.nan, .nan], count: distances.count)
        }
        let n = distances.count
        guard n >= 4 else { return classicalMDS(distances: distances, dimensions: 2) }
        let k = max(2, min(neighbours, n - 1))
        var graph = UMAPGraph.fuzzySimplicialSet(distances, neighbours: k).graph
        let defaultEpochs = n <= 10_000 ? 500 : 200
        let epochCount = max(0, epochs ?? defaultEpochs)
        prune(&graph, epochs: epochCount > 10 ? epochCount : defaultEpochs)
        let (a, b) = UMAPGraph.curveParameters(spread: 1, minDistance: max(0, minDistance))
        var generator = SeededGenerator(seed: seed)
        var layout = UMAPLayout.initialise(graph, distances: distances, dimensions: 2, generator: &generator)
        var options = UMAPLayout.Options()
        (options.a, options.b, options.epochs) = (a, b, epochCount)
        UMAPLayout.optimise(&layout, graph: graph, options: options, generator: &generator)
        return layout
    }

    /// Drops the edges lighter than max(w)/epochs, which would be sampled less than once
    /// (umap-learn does the same before initialising).
    static func prune(_ graph: inout UMAPGraph.Sparse, epochs: Int) {
        guard let heaviest = graph.values.max(), epochs > 0 else { return }
        let floor = heaviest / Double(epochs)
        var kept = UMAPGraph.Sparse(count: graph.count, rows: [], columns: [], values: [])
        for e in graph.values.indices where graph.values[e] >= floor {
            kept.rows.append(graph.rows[e])
            kept.columns.append(graph.columns[e])
            kept.values.append(graph.values[e])
        }
        graph = kept
    }

    /// Trustworthiness (Venna & Kaski 2001) of `embedding` against the precomputed `distances`,
    /// exactly as `sklearn.manifold.trustworthiness(distances, embedding, n_neighbors=neighbours,
    /// metric="precomputed")`:
    /// T = 1 − 2/(n·k·(2n − 3k − 1)) · Σᵢ Σ_{j ∈ Uᵢ} max(0, r(i, j) − k), where Uᵢ are i's k nearest
    /// neighbours in the embedding (Euclidean, i excluded) and r(i, j) the rank of j among i's
    /// neighbours in the original space (1 = nearest). 1 means every embedded neighbourhood is a true
    /// one. Equal distances are ranked in index order.
    ///
    /// Returns NaN for malformed input, different point counts, or `neighbours` outside
    /// 1..<n/2 (where scikit-learn raises).
    public static func trustworthiness(distances: [[Double]], embedding: [[Double]], neighbours: Int = 5) -> Double {
        let n = distances.count
        guard AnalysisError.validDistances(distances, minimumPoints: 3), embedding.count == n,
              AnalysisError.validFeatures(embedding, minimumPoints: 3),
              neighbours >= 1, Double(neighbours) < Double(n) / 2 else { return .nan }
        let k = neighbours
        var penalty = 0
        var rank = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let original = Outliers.nearestOthers(of: i, in: distances, count: n - 1)
            for (position, j) in original.enumerated() { rank[j] = position + 1 }
            let embedded = (0..<n).map { j -> Double in
                j == i ? 0 : zip(embedding[i], embedding[j]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            }
            for j in Outliers.nearestOthers(of: i, row: embedded, count: k) {
                penalty += max(0, rank[j] - k)
            }
        }
        let nd = Double(n), kd = Double(k)
        return 1 - Double(penalty) * (2 / (nd * kd * (2 * nd - 3 * kd - 1)))
    }
}
