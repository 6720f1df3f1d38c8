import Foundation
import NNRuntime

/// The outlier detectors DORA's two code generations used (METHODS.md §1.5), plus two common baselines.
public enum OutlierDetector: String, CaseIterable, Codable, Sendable {
    /// Local Outlier Factor on a precomputed distance matrix (DORA's final notebook: scikit-learn).
    case lof
    /// pyod's PCA detector on feature vectors (DORA's old `run_outlier_detection(method="PCA")`).
    case pca
    /// Isolation forest on feature vectors (Liu, Ting & Zhou 2008), as scikit-learn's `IsolationForest`.
    case iforest
    /// Distance to the k-th nearest neighbour on a precomputed distance matrix (pyod's `KNN`).
    case knn
}

/// Continuous outlier scores with the top-fraction labels derived from them.
public struct OutlierResult: Sendable, Codable, Equatable {
    /// One score per point; higher means more outlying for every detector.
    public var scores: [Double]
    /// `scores[i] > threshold`.
    public var isOutlier: [Bool]
    /// The score percentile that separates the flagged points (pyod's `threshold_`).
    public var threshold: Double

    public init(scores: [Double], isOutlier: [Bool], threshold: Double) {
        self.scores = scores
        self.isOutlier = isOutlier
        self.threshold = threshold
    }
}

/// Outlier scores that mirror scikit-learn and pyod, so DORA's results can be checked against the
/// reference notebooks number for number.
///
/// The score functions never trap: input that ``AnalysisError/checkDistances(_:minimumPoints:)`` or
/// ``AnalysisError/checkFeatures(_:minimumPoints:)`` rejects gives one NaN per row. ``detect(_:distances:features:fraction:seed:)``
/// validates first and throws a one-line ``AnalysisError`` instead.
public enum Outliers {
    /// Local Outlier Factor (Breunig et al. 2000) exactly as scikit-learn's
    /// `LocalOutlierFactor(metric="precomputed", n_neighbors=neighbours)` computes it on a distance
    /// matrix, returned as `-negative_outlier_factor_` (about 1 for inliers, larger for outliers).
    ///
    /// As in scikit-learn: `kneighbors()` on the training set leaves each point out of its own
    /// neighbourhood; `n_neighbors` is clipped to `n − 1`; the k-distance of `o` is its distance to its
    /// k-th neighbour; `reach(p, o) = max(d(p, o), kdist(o))`; `lrd(p) = 1 / (mean reach + 1e-10)`, the
    /// 1e-10 keeping duplicates finite; `LOF(p) = mean over neighbours o of lrd(o) / lrd(p)`. Equally
    /// distant neighbours are taken in index order (scikit-learn's order among exact ties depends on
    /// `argpartition`; the k-distance, hence the score, only differs when the tie straddles the k-th
    /// place and the tied points have different densities).
    public static func localOutlierFactor(distances: [[Double]], neighbours: Int = 20) -> [Double] {
        guard AnalysisError.validDistances(distances, minimumPoints: 2) else { return nanScores(distances.count) }
        let n = distances.count
        let k = max(1, min(neighbours, n - 1))
        let neighbourhoods = (0..<n).map { nearestOthers(of: $0, in: distances, count: k) }
        let kDistance = (0..<n).map { distances[$0][neighbourhoods[$0][k - 1]] }
        let density = (0..<n).map { p -> Double in
            var sum = 0.0
            for o in neighbourhoods[p] { sum += max(distances[p][o], kDistance[o]) }
            return 1 / (sum / Double(k) + 1e-10)
        }
        return (0..<n).map { p in
            var ratio = 0.0
            for o in neighbourhoods[p] { ratio += density[o] / density[p] }
            return ratio / Double(k)
        }
    }

    /// pyod's `KNN(method="largest", n_neighbors=neighbours)` on a precomputed distance matrix: the
    /// distance from each point to its k-th nearest *other* point (scikit-learn's `kneighbors()` on the
    /// training set excludes the query point). `neighbours` is clipped to `1...n−1` (pyod would raise).
    public static func knnScores(distances: [[Double]], neighbours: Int = 5) -> [Double] {
        guard AnalysisError.validDistances(distances, minimumPoints: 2) else { return nanScores(distances.count) }
        let n = distances.count
        let k = max(1, min(neighbours, n - 1))
        return (0..<n).map { i in distances[i][nearestOthers(of: i, in: distances, count: k)[k - 1]] }
    }

    /// Scores every point with `detector` and flags the top `fraction` of them.
    ///
    /// `.lof` and `.knn` read `distances`; `.pca` and `.iforest` read `features`; the other matrix may be
    /// empty. The threshold is pyod's rule, `percentile(scores, 100·(1 − fraction))` with numpy's linear
    /// interpolation, and a point is an outlier when its score is strictly above it. scikit-learn's
    /// `LocalOutlierFactor(contamination=fraction)` labels the same set: it flags
    /// `negative_outlier_factor_ < percentile(negative_outlier_factor_, 100·fraction)`, the mirror image.
    ///
    /// - Throws: ``AnalysisError`` when `fraction` is outside (0, 0.5] (scikit-learn's range for
    ///   `contamination`), the matrix the detector reads is malformed or holds NaN, or there are fewer
    ///   than 3 points.
    public static func detect(_ detector: OutlierDetector, distances: [[Double]], features: [[Double]],
                              fraction: Double = 0.05, seed: UInt64 = 0) throws -> OutlierResult {
        guard fraction > 0, fraction <= 0.5 else {
            throw AnalysisError("outlier fraction \(fraction) is outside (0, 0.5]; expected e.g. 0.05")
        }
        let scores: [Double]
        switch detector {
        case .lof:
            try AnalysisError.checkDistances(distances)
            scores = localOutlierFactor(distances: distances)
        case .knn:
            try AnalysisError.checkDistances(distances)
            scores = knnScores(distances: distances)
        case .pca:
            try AnalysisError.checkFeatures(features)
            scores = pcaScores(features: features)
        case .iforest:
            try AnalysisError.checkFeatures(features)
            scores = isolationForest(features: features, seed: seed)
        }
        if let i = scores.firstIndex(where: { !$0.isFinite }) {
            throw AnalysisError("\(detector.rawValue) produced a non-finite score \(scores[i]) for point \(i); expected finite scores (degenerate input?)")
        }
        let threshold = percentile(scores, 100 * (1 - fraction))
        return OutlierResult(scores: scores, isOutlier: scores.map { $0 > threshold }, threshold: threshold)
    }

    /// numpy's `percentile(values, q)` with the default "linear" method: the virtual index
    /// `(n − 1)·q/100` between two order statistics, blended with numpy's `_lerp` (which interpolates
    /// from the upper neighbour when the weight is ≥ ½), so thresholds match pyod to the last bit.
    public static func percentile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty, q.isFinite else { return .nan }
        let sorted = values.sorted()
        let n = sorted.count
        let virtual = Double(n - 1) * (q / 100)
        if virtual >= Double(n - 1) { return sorted[n - 1] }
        if virtual < 0 { return sorted[0] }
        let lower = virtual.rounded(.down)
        let gamma = virtual - lower
        let a = sorted[Int(lower)], b = sorted[Int(lower) + 1]
        let difference = b - a
        return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma
    }

    // MARK: - Shared helpers

    /// The `count` nearest points to `i` other than `i` itself, nearest first, ties in index order.
    static func nearestOthers(of i: Int, in distances: [[Double]], count: Int) -> [Int] {
        nearestOthers(of: i, row: distances[i], count: count)
    }

    /// The `count` indices other than `i` with the smallest entries of `row`, ties in index order.
    static func nearestOthers(of i: Int, row: [Double], count: Int) -> [Int] {
        var candidates = Array(0..<row.count)
        candidates.remove(at: i)
        return smallest(count, of: candidates, by: row)
    }

    /// The `count` entries of `candidates` with the smallest `keys`, ascending, ties by index.
    static func smallest(_ count: Int, of candidates: [Int], by keys: [Double]) -> [Int] {
        let less = { (a: Int, b: Int) -> Bool in keys[a] < keys[b] || (keys[a] == keys[b] && a < b) }
        if count >= candidates.count { return candidates.sorted(by: less) }
        // Bounded insertion: k ≪ n here (neighbour lists), so O(n·k) beats a full sort.
        var best: [Int] = []
        best.reserveCapacity(count + 1)
        for c in candidates {
            if best.count == count, !less(c, best[count - 1]) { continue }
            var position = best.count
            while position > 0, less(c, best[position - 1]) { position -= 1 }
            best.insert(c, at: position)
            if best.count > count { best.removeLast() }
        }
        return best
    }

    static func nanScores(_ count: Int) -> [Double] { [Double](repeating: .nan, count: count) }
}
