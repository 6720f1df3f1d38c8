import Foundation

/// The fuzzy topological representation of UMAP (McInnes, Healy & Melville 2018, arXiv 1802.03426,
/// §3.1 and Appendix), built from a precomputed distance matrix the way umap-learn 0.5 builds it.
enum UMAPGraph {
    /// A symmetric weighted graph in coordinate form, entries sorted by (row, column), no zeros and
    /// no self-loops; both (i, j) and (j, i) are present.
    struct Sparse: Equatable {
        var count: Int
        var rows: [Int]
        var columns: [Int]
        var values: [Double]

        /// Row `i`'s entries as `rowStart[i]..<rowStart[i + 1]` (rows are sorted).
        var rowStart: [Int] {
            var start = [Int](repeating: 0, count: count + 1)
            for r in rows { start[r + 1] += 1 }
            for i in 0..<count { start[i + 1] += start[i] }
            return start
        }
    }

    /// umap-learn's `fast_knn_indices` on a precomputed matrix: the `k` nearest points of each row
    /// *including the point itself* (UMAP's neighbourhoods contain their centre at distance 0). The
    /// point is put first even when another point is at distance 0 too; the rest are taken by
    /// distance, ties in index order.
    static func nearestNeighbours(_ distances: [[Double]], k: Int) -> (indices: [[Int]], distances: [[Double]]) {
        let n = distances.count
        var indices: [[Int]] = [], values: [[Double]] = []
        indices.reserveCapacity(n)
        values.reserveCapacity(n)
        for i in 0..<n {
            let row = [i] + Outliers.nearestOthers(of: i, in: distances, count: k - 1)
            indices.append(row)
            values.append(row.map { $0 == i ? 0 : distances[i][$0] })
        }
        return (indices, values)
    }

    /// umap-learn's `smooth_knn_dist` with `local_connectivity = 1`, `bandwidth = 1`: ρᵢ is the
    /// distance to the nearest neighbour at a positive distance, σᵢ the bandwidth for which
    /// Σⱼ exp(−max(0, dᵢⱼ − ρᵢ)/σᵢ) over the neighbours other than the point itself equals log₂ k,
    /// found by 64 steps of bisection (doubling while unbounded) stopped at |sum − log₂ k| < 1e-5. σᵢ is
    /// then kept at least 1e-3 × the mean neighbour distance (of the row, or of all rows if ρᵢ = 0).
    static func smoothDistances(_ knnDistances: [[Double]], k: Int) -> (sigmas: [Double], rhos: [Double]) {
        let target = log2(Double(k))
        let tolerance = 1e-5, minimumScale = 1e-3
        let n = knnDistances.count
        let meanAll = knnDistances.reduce(0) { $0 + $1.reduce(0, +) } / Double(max(1, n * k))
        var sigmas = [Double](repeating: 0, count: n), rhos = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let row = knnDistances[i]
            var rho = 0.0
            if let nearest = row.first(where: { $0 > 0 }) { rho = nearest }  // rows are sorted
            var low = 0.0, high = Double.infinity, mid = 1.0
            for _ in 0..<64 {
                var sum = 0.0
                for j in 1..<row.count {
                    let d = row[j] - rho
                    sum += d > 0 ? exp(-(d / mid)) : 1
                }
                if abs(sum - target) < tolerance { break }
                if sum > target {
                    high = mid
                    mid = (low + high) / 2
                } else {
                    low = mid
                    mid = high == .infinity ? mid * 2 : (low + high) / 2
                }
            }
            let mean = rho > 0 ? row.reduce(0, +) / Double(row.count) : meanAll
            sigmas[i] = max(mid, minimumScale * mean)
            rhos[i] = rho
        }
        return (sigmas, rhos)
    }

    /// The fuzzy simplicial set: directed memberships μᵢⱼ = exp(−(dᵢⱼ − ρᵢ)/σᵢ) (1 when dᵢⱼ ≤ ρᵢ or
    /// σᵢ = 0, 0 for the point itself), combined by the probabilistic t-conorm
    /// wᵢⱼ = μᵢⱼ + μⱼᵢ − μᵢⱼ·μⱼᵢ (umap-learn's `set_op_mix_ratio = 1`, the fuzzy union).
    static func fuzzySimplicialSet(_ distances: [[Double]], neighbours k: Int) -> (graph: Sparse, sigmas: [Double], rhos: [Double]) {
        let n = distances.count
        let knn = nearestNeighbours(distances, k: k)
        let (sigmas, rhos) = smoothDistances(knn.distances, k: k)
        var directed = [[Int: Double]](repeating: [:], count: n)
        for i in 0..<n {
            for (j, d) in zip(knn.indices[i], knn.distances[i]) where j != i {
                let value = (d - rhos[i] <= 0 || sigmas[i] == 0) ? 1 : exp(-((d - rhos[i]) / sigmas[i]))
                if value != 0 { directed[i][j] = value }
            }
        }
        var union = [[Int: Double]](repeating: [:], count: n)
        for i in 0..<n {
            for (j, a) in directed[i] {
                let b = directed[j][i] ?? 0
                let w = a + b - a * b
                union[i][j] = w
                union[j][i] = w
            }
        }
        var graph = Sparse(count: n, rows: [], columns: [], values: [])
        for i in 0..<n {
            for j in union[i].keys.sorted() {
                graph.rows.append(i)
                graph.columns.append(j)
                graph.values.append(union[i][j]!)
            }
        }
        return (graph, sigmas, rhos)
    }

    /// The curve 1/(1 + a·d^(2b)) fitted by least squares to the target membership
    /// `1` for d < min_dist and `exp(−(d − min_dist)/spread)` beyond, on 300 points of [0, 3·spread]:
    /// umap-learn's `find_ab_params` (scipy `curve_fit` from a = b = 1). Levenberg–Marquardt with the
    /// analytic Jacobian reaches the same minimum: a ≈ 1.577, b ≈ 0.895 for the defaults.
    static func curveParameters(spread: Double = 1, minDistance: Double) -> (a: Double, b: Double) {
        let xs = (0..<300).map { Double($0) * (3 * spread) / 299 }
        let ys = xs.map { $0 < minDistance ? 1 : exp(-($0 - minDistance) / spread) }
        func loss(_ a: Double, _ b: Double) -> Double {
            var s = 0.0
            for (x, y) in zip(xs, ys) {
                let r = 1 / (1 + a * pow(x, 2 * b)) - y
                s += r * r
            }
            return s.isFinite ? s : .infinity
        }
        var a = 1.0, b = 1.0, damping = 1e-3
        var current = loss(a, b)
        for _ in 0..<500 {
            // Normal equations JᵀJ δ = −Jᵀr for the two parameters.
            var jaa = 0.0, jab = 0.0, jbb = 0.0, ga = 0.0, gb = 0.0
            for (x, y) in zip(xs, ys) {
                let p = x > 0 ? pow(x, 2 * b) : 0
                let f = 1 / (1 + a * p)
                let r = f - y
                let da = -p * f * f
                let db = x > 0 ? -a * p * 2 * log(x) * f * f : 0
                jaa += da * da; jab += da * db; jbb += db * db
                ga += da * r; gb += db * r
            }
            var improved = false
            while damping < 1e12 {
                let m11 = jaa * (1 + damping), m22 = jbb * (1 + damping)
                let det = m11 * m22 - jab * jab
                let stepA = -(m22 * ga - jab * gb) / det, stepB = -(m11 * gb - jab * ga) / det
                let trial = loss(a + stepA, b + stepB)
                if trial <= current {
                    let converged = abs(stepA) <= 1e-14 * abs(a) && abs(stepB) <= 1e-14 * abs(b)
                    (a, b, current) = (a + stepA, b + stepB, trial)
                    damping = max(damping / 10, 1e-12)
                    improved = !converged
                    break
                }
                damping *= 10
            }
            if !improved { break }
        }
        return (a, b)
    }

    /// Connected components of `graph` (labels 0, 1, … in order of their smallest member).
    static func components(_ graph: Sparse) -> (count: Int, labels: [Int]) {
        let start = graph.rowStart
        var labels = [Int](repeating: -1, count: graph.count)
        var count = 0
        for seed in 0..<graph.count where labels[seed] < 0 {
            var stack = [seed]
            labels[seed] = count
            while let v = stack.popLast() {
                for e in start[v]..<start[v + 1] where labels[graph.columns[e]] < 0 {
                    labels[graph.columns[e]] = count
                    stack.append(graph.columns[e])
                }
            }
            count += 1
        }
        return (count, labels)
    }
}
