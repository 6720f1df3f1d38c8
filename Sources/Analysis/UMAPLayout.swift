import Foundation
import NNRuntime

/// UMAP's layout stage (McInnes et al. 2018, §3.2 and Appendix): spectral initialisation and the
/// stochastic gradient descent of the fuzzy cross-entropy with negative sampling, following
/// umap-learn 0.5's `simplicial_set_embedding` and `optimize_layout_euclidean`.
enum UMAPLayout {
    /// Options of one layout run (umap-learn's defaults).
    struct Options {
        var dimensions = 2
        var epochs = 500
        var a = 1.577
        var b = 0.895
        var learningRate = 1.0
        var negativeSamples = 5
        var repulsion = 1.0
        var gradientClip = 4.0
    }

    // MARK: - Initialisation

    /// Spectral initialisation scaled like umap-learn: the layout (per connected component, see
    /// ``componentLayout(_:labels:count:distances:dimensions:generator:)``) is stretched so its largest
    /// coordinate magnitude is 10, jittered by N(0, 1e-4) noise, then each axis is mapped onto [0, 10].
    static func initialise(_ graph: UMAPGraph.Sparse, distances: [[Double]], dimensions: Int,
                           generator: inout SeededGenerator) -> [[Double]] {
        let (count, labels) = UMAPGraph.components(graph)
        var layout: [[Double]]
        if count == 1, let spectral = spectralLayout(graph, dimensions: dimensions) {
            layout = spectral
        } else if count == 1 {
            // The eigen-solver failed (umap-learn warns and falls back to uniform noise in [−10, 10]).
            layout = (0..<graph.count).map { _ in (0..<dimensions).map { _ in 20 * Outliers.randomUnit(using: &generator) - 10 } }
        } else {
            layout = componentLayout(graph, labels: labels, count: count, distances: distances,
                                     dimensions: dimensions, generator: &generator)
        }
        let largest = layout.reduce(0) { max($0, $1.reduce(0) { max($0, abs($1)) }) }
        let expansion = largest > 0 ? 10 / largest : 1
        for i in layout.indices {
            for d in 0..<dimensions { layout[i][d] = layout[i][d] * expansion + 1e-4 * normal(&generator) }
        }
        for d in 0..<dimensions {
            let column = layout.map { $0[d] }
            let low = column.min() ?? 0, high = column.max() ?? 0
            let span = high - low
            for i in layout.indices { layout[i][d] = span > 0 ? 10 * (layout[i][d] - low) / span : 5 }
        }
        return layout
    }

    /// The eigenvectors of the 2nd to (dimensions+1)-th smallest eigenvalues of the symmetric normalised
    /// Laplacian I − D^(−½) W D^(−½) of a connected graph (Belkin & Niyogi's Laplacian eigenmaps, which
    /// umap-learn uses as its default `init="spectral"`); nil when the solver does not converge.
    ///
    /// Small graphs use LAPACK on the dense matrix; larger ones a restarted Krylov solver on the sparse
    /// one (``KrylovEigen``), in place of ARPACK's `eigsh(which="SM")`. Each vector's sign is fixed
    /// (largest-magnitude entry positive) so layouts do not depend on the LAPACK build.
    static func spectralLayout(_ graph: UMAPGraph.Sparse, dimensions: Int, denseLimit: Int = 600) -> [[Double]]? {
        let n = graph.count
        guard n > dimensions + 1 else { return nil }
        var degree = [Double](repeating: 0, count: n)
        for (r, v) in zip(graph.rows, graph.values) { degree[r] += v }
        guard degree.allSatisfy({ $0 > 0 }) else { return nil }
        let scale = degree.map { 1 / $0.squareRoot() }
        var vectors: [[Double]]
        if n <= denseLimit {
            var laplacian = [Double](repeating: 0, count: n * n)
            for i in 0..<n { laplacian[i * n + i] = 1 }
            for (e, v) in graph.values.enumerated() {
                let i = graph.rows[e], j = graph.columns[e]
                laplacian[i * n + j] -= scale[i] * v * scale[j]
            }
            guard let eigen = SymmetricEigen.decompose(laplacian, n: n, ranks: 0...dimensions) else { return nil }
            vectors = Array(eigen.vectors[1...dimensions])
        } else {
            // Largest eigenvectors of S = (I + D^(−½) W D^(−½))/2 (spectrum in [0, 1], same vectors),
            // with the known top one, √degree, deflated.
            let start = graph.rowStart
            let top = degree.map { $0.squareRoot() }
            let norm = top.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let apply = { (x: [Double]) -> [Double] in
                var y = [Double](repeating: 0, count: n)
                for i in 0..<n {
                    var s = 0.0
                    for e in start[i]..<start[i + 1] { s += graph.values[e] * scale[graph.columns[e]] * x[graph.columns[e]] }
                    y[i] = 0.5 * (x[i] + scale[i] * s)
                }
                return y
            }
            guard let found = KrylovEigen.largest(count: dimensions, n: n, deflate: [top.map { $0 / norm }],
                                                  apply: apply) else { return nil }
            vectors = found
        }
        for j in vectors.indices { SymmetricEigen.fixSign(&vectors[j]) }
        return (0..<n).map { i in vectors.map { $0[i] } }
    }

    /// umap-learn's `multi_component_layout` for a graph with several connected components: each
    /// component gets an anchor ("meta-embedding") and is laid out spectrally inside a ball of half the
    /// distance to the nearest other anchor (uniformly at random if it has fewer than 2·dimensions
    /// points, or dimensions+1 or fewer). Up to 2·dimensions components sit on ±unit vectors as in
    /// umap-learn; with more, the anchors are the classical-MDS layout of the components' average-
    /// linkage distances scaled to a largest coordinate of 1 (umap-learn embeds exp(−d²) affinities
    /// spectrally instead; the anchors only seed the optimisation).
    static func componentLayout(_ graph: UMAPGraph.Sparse, labels: [Int], count: Int, distances: [[Double]],
                                dimensions: Int, generator: inout SeededGenerator) -> [[Double]] {
        let members = (0..<count).map { c in labels.indices.filter { labels[$0] == c } }
        var anchors: [[Double]]
        if count <= 2 * dimensions {
            let half = (count + 1) / 2
            let base = (0..<half).map { r in (0..<dimensions).map { $0 == r ? 1.0 : 0.0 } }
            anchors = Array((base + base.map { $0.map { -$0 } }).prefix(count))
        } else {
            var linkage = [[Double]](repeating: [Double](repeating: 0, count: count), count: count)
            for c in 0..<count {
                for e in (c + 1)..<count {
                    var sum = 0.0
                    for i in members[c] { for j in members[e] { sum += distances[i][j] } }
                    let mean = sum / Double(members[c].count * members[e].count)
                    linkage[c][e] = mean
                    linkage[e][c] = mean
                }
            }
            anchors = Embedding.classicalMDS(distances: linkage, dimensions: dimensions)
            let largest = anchors.reduce(0) { max($0, $1.reduce(0) { max($0, abs($1)) }) }
            if largest > 0 { anchors = anchors.map { $0.map { $0 / largest } } }
        }
        var layout = [[Double]](repeating: [Double](repeating: 0, count: dimensions), count: graph.count)
        for c in 0..<count {
            var nearest = Double.infinity
            for other in anchors.indices {
                let d = zip(anchors[c], anchors[other]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                if d > 0 { nearest = min(nearest, d) }
            }
            let range = nearest.isFinite ? nearest / 2 : 1
            let size = members[c].count
            var local: [[Double]]? = nil
            if size >= 2 * dimensions, size > dimensions + 1 {
                local = spectralLayout(subgraph(graph, members: members[c]), dimensions: dimensions)
            }
            if let spectral = local {
                let largest = spectral.reduce(0) { max($0, $1.reduce(0) { max($0, abs($1)) }) }
                let expansion = largest > 0 ? range / largest : 0
                for (k, i) in members[c].enumerated() {
                    layout[i] = (0..<dimensions).map { spectral[k][$0] * expansion + anchors[c][$0] }
                }
            } else {
                for i in members[c] {
                    layout[i] = (0..<dimensions).map { anchors[c][$0] + range * (2 * Outliers.randomUnit(using: &generator) - 1) }
                }
            }
        }
        return layout
    }

    /// The graph restricted to `members` (renumbered in order).
    static func subgraph(_ graph: UMAPGraph.Sparse, members: [Int]) -> UMAPGraph.Sparse {
        var local = [Int: Int]()
        for (k, i) in members.enumerated() { local[i] = k }
        var out = UMAPGraph.Sparse(count: members.count, rows: [], columns: [], values: [])
        for e in graph.rows.indices {
            guard let r = local[graph.rows[e]], let c = local[graph.columns[e]] else { continue }
            out.rows.append(r)
            out.columns.append(c)
            out.values.append(graph.values[e])
        }
        return out
    }

    // MARK: - Optimisation

    /// SGD on the fuzzy-set cross-entropy (umap-learn's `optimize_layout_euclidean`). Edge e is
    /// sampled every `epochs·max(w)/wₑ`-th epoch (`make_epochs_per_sample`); each sample pulls its two
    /// ends together with the gradient of log(1/(1 + a·d^(2b))) and pushes the head away from
    /// `negativeSamples` uniformly drawn points per sample with the gradient of
    /// log(1 − 1/(1 + a·d^(2b))) (ε = 0.001 in the denominator); every gradient coordinate is clipped
    /// to ±4 and the learning rate decays linearly to 0. One deterministic stream of SplitMix64 draws
    /// the negative samples, in edge order, so a seed fixes the result.
    static func optimise(_ layout: inout [[Double]], graph: UMAPGraph.Sparse, options: Options,
                         generator: inout SeededGenerator) {
        let n = graph.count, dim = options.dimensions
        guard let maxWeight = graph.values.max(), maxWeight > 0, options.epochs > 0 else { return }
        let epochs = Double(options.epochs)
        let perSample = graph.values.map { epochs / (epochs * $0 / maxWeight) }
        let perNegative = perSample.map { $0 / Double(options.negativeSamples) }
        var nextSample = perSample, nextNegative = perNegative
        var flat = Dense.flatten(layout, columns: dim)
        let a = options.a, b = options.b, clip = options.gradientClip, repulsion = options.repulsion
        var alpha = options.learningRate
        var delta = [Double](repeating: 0, count: dim)
        // Raw buffers: this loop runs ~10⁷ times for 1000 points and exclusivity checks would dominate.
        flat.withUnsafeMutableBufferPointer { position in
        nextSample.withUnsafeMutableBufferPointer { nextSample in
        nextNegative.withUnsafeMutableBufferPointer { nextNegative in
        delta.withUnsafeMutableBufferPointer { delta in
            for epoch in 0..<options.epochs {
                let now = Double(epoch)
                for e in 0..<perSample.count where nextSample[e] <= now {
                    let j = graph.rows[e] * dim, k = graph.columns[e] * dim
                    var d2 = 0.0
                    for d in 0..<dim {
                        delta[d] = position[j + d] - position[k + d]
                        d2 += delta[d] * delta[d]
                    }
                    if d2 > 0 {
                        let p = pow(d2, b)
                        let coefficient = -2 * a * b * (p / d2) / (a * p + 1)
                        for d in 0..<dim {
                            let g = min(max(coefficient * delta[d], -clip), clip) * alpha
                            position[j + d] += g
                            position[k + d] -= g
                        }
                    }
                    nextSample[e] += perSample[e]
                    let negatives = max(0, Int((now - nextNegative[e]) / perNegative[e]))
                    for _ in 0..<negatives {
                        let other = Outliers.randomIndex(below: n, using: &generator) * dim
                        var s2 = 0.0
                        for d in 0..<dim {
                            delta[d] = position[j + d] - position[other + d]
                            s2 += delta[d] * delta[d]
                        }
                        guard s2 > 0 else { continue }           // the point itself or an exact duplicate
                        let coefficient = 2 * repulsion * b / ((0.001 + s2) * (a * pow(s2, b) + 1))
                        for d in 0..<dim { position[j + d] += min(max(coefficient * delta[d], -clip), clip) * alpha }
                    }
                    nextNegative[e] += Double(negatives) * perNegative[e]
                }
                alpha = options.learningRate * (1 - now / epochs)   // umap-learn: epochs 0 and 1 both run at the full rate
            }
        }
        }
        }
        }
        layout = (0..<n).map { Array(flat[($0 * dim)..<(($0 + 1) * dim)]) }
    }

    /// A standard normal draw (Box–Muller on 53-bit uniforms).
    static func normal(_ generator: inout SeededGenerator) -> Double {
        let u1 = max(Outliers.randomUnit(using: &generator), .leastNonzeroMagnitude)
        let u2 = Outliers.randomUnit(using: &generator)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
