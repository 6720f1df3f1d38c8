import Foundation
import TestSupport

/// The JSON fixtures Tests/Reference/make_analysis_fixtures.py wrote with scikit-learn, pyod, scipy,
/// numpy and umap-learn (Tests/TestSupport/Fixtures/analysis/).
enum AnalysisFixtures {
    static func load<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let data = try Data(contentsOf: Fixtures.url("analysis/" + name))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: data)
    }

    /// outliers.json: two data sets ("blobs": 2 clusters + 4 planted outliers in 5-D with Euclidean
    /// distances; "ea": 48 non-negative activation rows with DORA's EA distance).
    struct Outliers: Decodable {
        struct Case: Decodable {
            var features: [[Double]]
            var distances: [[Double]]
            var lof20: [Double]
            var lof20Outliers: [Int]
            var lof5: [Double]
            var lof5Outliers: [Int]
            var pca: [Double]
            var pcaOutliers: [Int]
            var pcaThreshold: Double
            var knn: [Double]
            var knnOutliers: [Int]
            var iforestSklearn: [Double]
        }
        var fraction: Double
        var planted: [Int]
        var cases: [String: Case]
    }

    /// roc.json: scores/labels with and without ties and scikit-learn's AUC, ROC curve and AP.
    struct ROC: Decodable {
        struct Case: Decodable {
            var name: String
            var scores: [Double]
            var labels: [Bool]
            var auc: Double
            var fpr: [Double]
            var tpr: [Double]
            var ap: Double
        }
        var cases: [Case]
    }

    /// mannwhitney.json: scipy's asymptotic `mannwhitneyu` for three alternatives.
    struct MannWhitney: Decodable {
        struct Case: Decodable {
            var name: String
            var x: [Double]
            var y: [Double]
            var u1: Double
            var twoSided: Double
            var greater: Double
            var less: Double

            enum CodingKeys: String, CodingKey {
                case name, x, y, u1, greater, less
                case twoSided = "two-sided"
            }
        }
        var cases: [Case]
    }

    /// embedding.json: classical MDS by numpy's `eigh`, umap-learn's graph, (a, b) and embedding.
    struct Embedding: Decodable {
        var points: [[Double]]
        var pointsDistances: [[Double]]
        var mdsPoints: [[Double]]
        var mdsPointsEigenvalues: [Double]
        var eaDistances: [[Double]]
        var mdsEa: [[Double]]
        var mdsEaEigenvalues: [Double]
        var ab: [String: [Double]]
        var sigmas: [Double]
        var rhos: [Double]
        var graphRows: [Int]
        var graphCols: [Int]
        var graphValues: [Double]
        var umapEmbedding: [[Double]]
        var umapTrustworthiness: Double
        var trustworthinessOfUmapEmbedding: Double
    }
}

/// The largest |a − b| / max(|b|, floor) over two equally long vectors (∞ if the lengths differ or a
/// value is NaN): a relative error that does not blow up on entries near zero.
func worstRelativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-12) -> Double {
    guard a.count == b.count else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a, b) {
        let e = abs(x - y) / max(abs(y), floor)
        if e.isNaN { return .infinity }
        worst = max(worst, e)
    }
    return worst
}

/// Euclidean distance matrix of row vectors.
func euclideanDistances(_ points: [[Double]]) -> [[Double]] {
    points.map { p in points.map { q in zip(p, q).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() } }
}

/// Deterministic Gaussian clusters for tests (SplitMix64 + Box–Muller, no dependence on the
/// library's own generator use).
func gaussianClusters(centres: [[Double]], perCluster: Int, spread: Double, seed: UInt64) -> [[Double]] {
    var state = seed
    func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
    func normal() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
    return centres.flatMap { c in (0..<perCluster).map { _ in c.map { $0 + spread * normal() } } }
}
