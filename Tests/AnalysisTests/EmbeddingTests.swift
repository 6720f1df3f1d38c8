import Foundation
import Testing
@testable import Analysis

/// Classical MDS against numpy's eigendecomposition and exact distance preservation; UMAP's graph
/// and curve parameters against umap-learn, its determinism, cluster separation and trustworthiness;
/// trustworthiness itself against scikit-learn.
@Suite struct EmbeddingTests {
    let fixture: AnalysisFixtures.Embedding

    init() throws { fixture = try AnalysisFixtures.load("embedding.json") }

    func largestAbsoluteDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
        guard a.count == b.count else { return .infinity }
        var worst = 0.0
        for (x, y) in zip(a, b) {
            guard x.count == y.count else { return .infinity }
            for (u, v) in zip(x, y) { worst = max(worst, abs(u - v).isNaN ? .infinity : abs(u - v)) }
        }
        return worst
    }

    // MARK: - Classical MDS

    @Test func classicalMDSMatchesNumpyEigendecomposition() {
        let points = Embedding.classicalMDS(distances: fixture.pointsDistances)
        #expect(largestAbsoluteDifference(points, fixture.mdsPoints) <= 1e-8)
        let ea = Embedding.classicalMDS(distances: fixture.eaDistances)
        #expect(largestAbsoluteDifference(ea, fixture.mdsEa) <= 1e-8)
    }

    @Test func classicalMDSPreservesEuclideanDistancesExactly() {
        // Three axes for 3-D points: the layout is the point set up to rotation, reflection and shift.
        let coordinates = Embedding.classicalMDS(distances: fixture.pointsDistances, dimensions: 3)
        #expect(largestAbsoluteDifference(euclideanDistances(coordinates), fixture.pointsDistances) <= 1e-9)
        // Equivalently the centred Gram matrices agree.
        let n = Double(fixture.points.count)
        let mean = (0..<3).map { d in fixture.points.reduce(0) { $0 + $1[d] } / n }
        let centred = fixture.points.map { p in (0..<3).map { p[$0] - mean[$0] } }
        func gram(_ x: [[Double]]) -> [[Double]] { x.map { a in x.map { b in zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } } } }
        #expect(largestAbsoluteDifference(gram(coordinates), gram(centred)) <= 1e-9)
        // Extra axes beyond the rank carry nothing; axes beyond n are zero.
        let five = Embedding.classicalMDS(distances: fixture.pointsDistances, dimensions: 5)
        // The fixture rounds distances to 1e-10, so the null eigenvalues of B are ~1e-9, not 0.
        #expect(five.allSatisfy { abs($0[3]) < 1e-4 && abs($0[4]) < 1e-4 })
        #expect(largestAbsoluteDifference(Embedding.classicalMDS(distances: [[0, 2], [2, 0]], dimensions: 3), [[1, 0, 0], [-1, 0, 0]]) < 1e-12)
        #expect(Embedding.classicalMDS(distances: [[0]]) == [[0, 0]])
    }

    // MARK: - UMAP pieces against umap-learn

    @Test func curveParametersMatchFindABParams() throws {
        for (key, expected) in fixture.ab {
            let minDistance = try #require(Double(key))
            let (a, b) = UMAPGraph.curveParameters(spread: 1, minDistance: minDistance)
            #expect(worstRelativeError([a, b], expected) <= 1e-6, "min_dist \(key): \(a), \(b) vs \(expected)")
        }
    }

    @Test func fuzzyGraphMatchesUmapLearn() {
        let (graph, sigmas, rhos) = UMAPGraph.fuzzySimplicialSet(fixture.eaDistances, neighbours: 15)
        // umap-learn keeps ρ, σ and the memberships in float32.
        #expect(worstRelativeError(rhos, fixture.rhos) <= 1e-6)
        #expect(worstRelativeError(sigmas, fixture.sigmas) <= 1e-4)
        #expect(graph.rows == fixture.graphRows && graph.columns == fixture.graphCols)
        #expect(worstRelativeError(graph.values, fixture.graphValues) <= 1e-4)
    }

    @Test func trustworthinessEqualsScikitLearn() {
        let t = Embedding.trustworthiness(distances: fixture.eaDistances, embedding: fixture.umapEmbedding)
        #expect(abs(t - fixture.trustworthinessOfUmapEmbedding) <= 1e-12)
        // The original space embeds itself perfectly; invalid neighbour counts give NaN, not a trap.
        let points = fixture.points
        #expect(Embedding.trustworthiness(distances: fixture.pointsDistances, embedding: points) == 1)
        #expect(Embedding.trustworthiness(distances: fixture.pointsDistances, embedding: points, neighbours: 15).isNaN)
        #expect(Embedding.trustworthiness(distances: fixture.pointsDistances, embedding: [[0, 0]]).isNaN)
    }

    // MARK: - UMAP behaviour

    @Test func umapKeepsNeighbourhoodsAsWellAsUmapLearn() {
        let layout = Embedding.umap(distances: fixture.eaDistances)
        #expect(layout.count == fixture.eaDistances.count && layout.allSatisfy { $0.count == 2 && $0.allSatisfy { $0.isFinite } })
        let t = Embedding.trustworthiness(distances: fixture.eaDistances, embedding: layout)
        #expect(t >= fixture.umapTrustworthiness - 0.05, "ours \(t), umap-learn \(fixture.umapTrustworthiness)")
    }

    @Test func umapIsDeterministicPerSeed() {
        let a = Embedding.umap(distances: fixture.eaDistances, epochs: 100, seed: 7)
        #expect(a == Embedding.umap(distances: fixture.eaDistances, epochs: 100, seed: 7))
        #expect(a != Embedding.umap(distances: fixture.eaDistances, epochs: 100, seed: 8))
    }

    @Test func umapKeepsWellSeparatedClustersApart() {
        // Two 10-D Gaussian clusters 20 standard deviations apart: their 15-NN graphs are disjoint.
        var centreB = [Double](repeating: 0, count: 10)
        centreB[0] = 20
        let points = gaussianClusters(centres: [[Double](repeating: 0, count: 10), centreB], perCluster: 40, spread: 1, seed: 5)
        let layout = Embedding.umap(distances: euclideanDistances(points), seed: 1)
        let embedded = euclideanDistances(layout)
        let cluster = { (i: Int) in i < 40 }
        var largestWithin = 0.0, smallestBetween = Double.infinity
        for i in 0..<80 {
            for j in 0..<80 where j != i {
                if cluster(i) == cluster(j) { largestWithin = max(largestWithin, embedded[i][j]) }
                else { smallestBetween = min(smallestBetween, embedded[i][j]) }
            }
        }
        #expect(smallestBetween > largestWithin, "between \(smallestBetween), within \(largestWithin)")
    }

    @Test func spectralInitialisationAgreesBetweenLAPACKAndKrylov() {
        // 400 jittered points on a 3:1 rectangle: the Laplacian's 2nd and 3rd eigenvalues are distinct.
        let points = gaussianClusters(centres: [[0, 0]], perCluster: 400, spread: 1, seed: 9)
            .map { [3 * (0.5 + 0.5 * tanh($0[0])), 0.5 + 0.5 * tanh($0[1])] }
        let graph = UMAPGraph.fuzzySimplicialSet(euclideanDistances(points), neighbours: 15).graph
        #expect(UMAPGraph.components(graph).count == 1)
        guard let dense = UMAPLayout.spectralLayout(graph, dimensions: 2, denseLimit: 10_000),
              let krylov = UMAPLayout.spectralLayout(graph, dimensions: 2, denseLimit: 0) else {
            Issue.record("an eigen-solver failed")
            return
        }
        for axis in 0..<2 {
            let alignment = zip(dense, krylov).reduce(0) { $0 + $1.0[axis] * $1.1[axis] }
            #expect(abs(alignment - 1) < 1e-6, "axis \(axis): \(alignment)")
        }
    }

    @Test func badInputGivesNaNRowsInsteadOfTrapping() {
        #expect(Embedding.umap(distances: [[0, 1], [1]]).allSatisfy { $0.count == 2 && $0.allSatisfy { $0.isNaN } })
        #expect(Embedding.classicalMDS(distances: [[0, -1], [-1, 0]]).allSatisfy { $0.allSatisfy { $0.isNaN } })
        #expect(Embedding.umap(distances: []).isEmpty)
        // Too few points for a graph: the classical-MDS layout.
        #expect(largestAbsoluteDifference(Embedding.umap(distances: [[0, 2], [2, 0]]), [[1, 0], [-1, 0]]) < 1e-12)
    }
}
