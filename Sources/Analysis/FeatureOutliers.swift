import Foundation
import NNRuntime

extension Outliers {
    /// pyod's `PCA()` detector with its defaults (`standardization=True`, `n_components=None`,
    /// `whiten=False`, `weighted=True`): returns its `decision_scores_`.
    ///
    /// The recipe, as pyod (Shyu et al. 2003's principal-component classifier, simplified) computes it:
    /// 1. standardise every column (scikit-learn `StandardScaler`: mean 0, population standard deviation
    ///    1; a constant column is only centred);
    /// 2. fit scikit-learn's `PCA` with all `min(n, d)` components, signs fixed by `svd_flip` so each
    ///    component's largest-magnitude entry is positive;
    /// 3. score(x) = Σⱼ ‖x − vⱼ‖ / rⱼ, where vⱼ is the j-th unit component *treated as a point* (pyod
    ///    uses `cdist(X, components_)`) and rⱼ its explained-variance ratio, so the low-variance
    ///    directions dominate.
    ///
    /// One deviation, for degenerate input only: components whose variance is zero to rounding (at most
    /// `1e-13` of the largest, e.g. n ≤ d or duplicated columns) are skipped; pyod divides by that
    /// rounding noise and returns astronomically large or infinite scores.
    public static func pcaScores(features: [[Double]]) -> [Double] {
        guard AnalysisError.validFeatures(features, minimumPoints: 2) else { return nanScores(features.count) }
        let n = features.count, d = features[0].count
        let x = standardised(features)
        // Covariance of the (re-)centred standardised data, as PCA centres again before its SVD.
        var mean = [Double](repeating: 0, count: d)
        for row in x { for j in 0..<d { mean[j] += row[j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        var covariance = [Double](repeating: 0, count: d * d)
        for row in x {
            let centred = (0..<d).map { row[$0] - mean[$0] }
            for a in 0..<d where centred[a] != 0 {
                let ca = centred[a]
                for b in a..<d { covariance[a * d + b] += ca * centred[b] }
            }
        }
        for a in 0..<d {
            for b in a..<d {
                covariance[a * d + b] /= Double(n - 1)
                covariance[b * d + a] = covariance[a * d + b]
            }
        }
        guard let eigen = SymmetricEigen.decompose(covariance, n: d) else { return nanScores(n) }
        let variances = eigen.values.map { max($0, 0) }
        let total = variances.reduce(0, +)
        let largest = variances.max() ?? 0
        guard total > 0 else { return [Double](repeating: 0, count: n) }
        // scikit-learn keeps min(n, d) components, the largest ones.
        let kept = min(n, d)
        var components: [(vector: [Double], ratio: Double)] = []
        for j in stride(from: d - 1, through: d - kept, by: -1) where variances[j] > 1e-13 * largest {
            var v = eigen.vectors[j]
            SymmetricEigen.fixSign(&v)
            components.append((v, variances[j] / total))
        }
        return x.map { row in
            var score = 0.0
            for component in components {
                var squared = 0.0
                for j in 0..<d {
                    let diff = row[j] - component.vector[j]
                    squared += diff * diff
                }
                score += squared.squareRoot() / component.ratio
            }
            return score
        }
    }

    /// Columns shifted to mean 0 and scaled to population standard deviation 1, like scikit-learn's
    /// `StandardScaler`, which leaves the scale of (near-)constant columns at 1.
    static func standardised(_ features: [[Double]]) -> [[Double]] {
        let n = Double(features.count), d = features[0].count
        var mean = [Double](repeating: 0, count: d)
        for row in features { for j in 0..<d { mean[j] += row[j] } }
        for j in 0..<d { mean[j] /= n }
        var variance = [Double](repeating: 0, count: d)
        for row in features { for j in 0..<d { variance[j] += (row[j] - mean[j]) * (row[j] - mean[j]) } }
        let scale = (0..<d).map { j -> Double in
            let s = (variance[j] / n).squareRoot()
            return s < 10 * Double.ulpOfOne * max(1, abs(mean[j])) ? 1 : s
        }
        return features.map { row in (0..<d).map { (row[$0] - mean[$0]) / scale[$0] } }
    }

    /// Isolation forest (Liu, Ting & Zhou, ICDM 2008) the way scikit-learn's `IsolationForest` builds
    /// it, returning `-score_samples` = 2^(−E[h(x)] / c(ψ)) ∈ (0, 1]; higher is more outlying and
    /// about 0.5 means "no evidence".
    ///
    /// Each of `trees` trees grows on ψ = min(`sampleSize`, n) points drawn without replacement, to depth
    /// ⌈log₂ ψ⌉; a node splits on a random non-constant feature at a threshold uniform in
    /// [min, max) of that feature in the node (points ≤ threshold go left) and becomes a leaf when it
    /// holds one point, reaches the depth limit or every feature is constant there. A point's path
    /// length is its leaf depth plus c(leaf size), with c(m) = 2(ln(m − 1) + γ) − 2(m − 1)/m the
    /// average unsuccessful-search depth of a binary search tree (c(1) = 0, c(2) = 1).
    ///
    /// The trees come from SplitMix64 (`SeededGenerator`) seeded with `seed`, so the scores are
    /// reproducible for a seed but not equal to scikit-learn's, whose random stream differs.
    public static func isolationForest(features: [[Double]], trees: Int = 100, sampleSize: Int = 256,
                                       seed: UInt64 = 0) -> [Double] {
        guard AnalysisError.validFeatures(features, minimumPoints: 2), trees > 0, sampleSize > 1 else {
            return nanScores(features.count)
        }
        let n = features.count
        let psi = min(sampleSize, n)
        let maxDepth = Int((log2(Double(max(psi, 2)))).rounded(.up))
        var generator = SeededGenerator(seed: seed)
        var depthSum = [Double](repeating: 0, count: n)
        for _ in 0..<trees {
            var treeGenerator = generator.split()
            let sample = sampleWithoutReplacement(psi, from: n, using: &treeGenerator)
            let tree = IsolationTree(features: features, sample: sample, maxDepth: maxDepth, using: &treeGenerator)
            for i in 0..<n { depthSum[i] += tree.pathLength(features[i]) }
        }
        let normaliser = Double(trees) * averagePathLength(psi)
        return depthSum.map { normaliser > 0 ? pow(2, -$0 / normaliser) : 1 }
    }

    /// c(m): the average path length of an unsuccessful search in a binary search tree of m points,
    /// scikit-learn's `_average_path_length`.
    static func averagePathLength(_ m: Int) -> Double {
        if m <= 1 { return 0 }
        if m == 2 { return 1 }
        let eulerGamma = 0.577_215_664_901_532_9
        return 2 * (log(Double(m - 1)) + eulerGamma) - 2 * Double(m - 1) / Double(m)
    }

    /// `count` distinct indices below `n` (a partial Fisher–Yates shuffle).
    static func sampleWithoutReplacement(_ count: Int, from n: Int, using generator: inout SeededGenerator) -> [Int] {
        var pool = Array(0..<n)
        for i in 0..<min(count, n) {
            let j = i + randomIndex(below: n - i, using: &generator)
            pool.swapAt(i, j)
        }
        return Array(pool[0..<min(count, n)])
    }

    /// A uniform integer in 0..<bound (multiply-high, Lemire 2019, without the rejection step: the
    /// bias is below bound/2⁶⁴).
    static func randomIndex(below bound: Int, using generator: inout SeededGenerator) -> Int {
        Int(UInt64(bound).multipliedFullWidth(by: generator.next()).high)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    static func randomUnit(using generator: inout SeededGenerator) -> Double {
        Double(generator.next() >> 11) * 0x1p-53
    }
}

/// One isolation tree in flat arrays (children by index; a leaf has `feature == -1`).
struct IsolationTree {
    private var feature: [Int] = []
    private var threshold: [Double] = []
    private var left: [Int] = []
    private var right: [Int] = []
    private var leafSize: [Int] = []

    /// scikit-learn's `FEATURE_THRESHOLD`: a feature whose range in the node is at most this is constant.
    private static let constantRange = 1e-7

    init(features: [[Double]], sample: [Int], maxDepth: Int, using generator: inout SeededGenerator) {
        let width = features[0].count
        // Depth-first with an explicit stack of (node, members, depth).
        var stack: [(node: Int, members: [Int], depth: Int)] = [(appendLeaf(sample.count), sample, 0)]
        while let (node, members, depth) = stack.popLast() {
            guard members.count > 1, depth < maxDepth else { continue }
            var candidates = Array(0..<width)
            var split: (feature: Int, threshold: Double)?
            while split == nil, !candidates.isEmpty {
                let pick = Outliers.randomIndex(below: candidates.count, using: &generator)
                let f = candidates.swapRemove(at: pick)
                var low = Double.infinity, high = -Double.infinity
                for m in members {
                    low = min(low, features[m][f])
                    high = max(high, features[m][f])
                }
                if high <= low + Self.constantRange { continue }
                var t = low + (high - low) * Outliers.randomUnit(using: &generator)
                if t == high { t = low }
                split = (f, t)
            }
            guard let (f, t) = split else { continue }
            let goLeft = members.filter { features[$0][f] <= t }
            let goRight = members.filter { features[$0][f] > t }
            let l = appendLeaf(goLeft.count), r = appendLeaf(goRight.count)
            feature[node] = f
            threshold[node] = t
            left[node] = l
            right[node] = r
            stack.append((r, goRight, depth + 1))
            stack.append((l, goLeft, depth + 1))
        }
    }

    private mutating func appendLeaf(_ size: Int) -> Int {
        feature.append(-1)
        threshold.append(0)
        left.append(-1)
        right.append(-1)
        leafSize.append(size)
        return feature.count - 1
    }

    /// Depth of the leaf `point` falls in plus c(points of the sample in that leaf).
    func pathLength(_ point: [Double]) -> Double {
        var node = 0, depth = 0
        while feature[node] >= 0 {
            node = point[feature[node]] <= threshold[node] ? left[node] : right[node]
            depth += 1
        }
        return Double(depth) + Outliers.averagePathLength(leafSize[node])
    }
}

private extension Array {
    /// Removes the element at `index` by moving the last element into its place (O(1), order lost).
    mutating func swapRemove(at index: Int) -> Element {
        swapAt(index, count - 1)
        return removeLast()
    }
}
