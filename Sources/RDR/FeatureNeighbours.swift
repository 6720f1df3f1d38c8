import Foundation
import NNRuntime

/// The paper's similarity baselines (METHODS.md §3.3, `euc_dist` and `cos_dist` of the reference's
/// `models/metrics.py`): Euclidean and cosine distances from a few targets to every instance in
/// the feature space h, against which RDR's configuration neighbours and regions are compared.
///
/// Features are streamed: each batch is reduced to its distances and dropped, so only T × N
/// distances are kept, never N feature vectors (at VGG19 pool4 and 224² one feature is 100k
/// floats; 30k of them would be 12 GB). Each row's distance is accumulated in Double in a fixed
/// order, so the result does not depend on how the rows were batched.
///
/// Chang, Kwon, Choi, AAAI 2024, arXiv 2312.17285.
public struct FeatureNeighbours: Sendable {
    /// The target feature vectors, flattened.
    public let targets: [[Float]]
    /// ‖t‖ of each target.
    private let targetNorms: [Double]
    /// euclidean[target][row]: ‖t − h_row‖₂.
    public private(set) var euclidean: [[Double]]
    /// cosine[target][row]: 1 − cos(t, h_row), in [0, 2]; 1 when either vector is zero (scikit-learn's
    /// convention for zero rows).
    public private(set) var cosine: [[Double]]
    /// Rows added so far.
    public var rows: Int { euclidean.first?.count ?? 0 }

    /// Distances from each of `targets` (equal-length flattened features) to rows added later.
    public init(targets: [[Float]]) {
        precondition(!targets.isEmpty, "FeatureNeighbours: no targets")
        precondition(targets.allSatisfy { $0.count == targets[0].count && !$0.isEmpty },
                     "FeatureNeighbours: targets must be non-empty and of one length")
        self.targets = targets
        self.targetNorms = targets.map { t in t.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        self.euclidean = Array(repeating: [], count: targets.count)
        self.cosine = Array(repeating: [], count: targets.count)
    }

    /// Adds a batch `[B, …]`, one row per instance in data order, each flattened.
    public mutating func add(_ batch: Tensor) {
        let dim = targets[0].count
        precondition(batch.rank >= 1 && batch.count == batch.shape[0] * dim,
                     "FeatureNeighbours: a batch of shape \(batch.shape) does not hold rows of \(dim) features")
        let b = batch.shape[0], tcount = targets.count
        let (targets, targetNorms) = (self.targets, self.targetNorms)
        var euc = [Double](repeating: 0, count: b * tcount), cos = euc
        batch.withUnsafeBufferPointer { x in
            euc.withUnsafeMutableBufferPointer { e in cos.withUnsafeMutableBufferPointer { c in
                let (xs, es, cs) = (x.baseAddress!, e.baseAddress!, c.baseAddress!)
                let work = { (r: Int) in
                    let row = xs + r * dim
                    var norm = 0.0
                    for i in 0..<dim { norm += Double(row[i]) * Double(row[i]) }
                    for (k, target) in targets.enumerated() {
                        var squared = 0.0, dot = 0.0
                        target.withUnsafeBufferPointer { t in
                            for i in 0..<dim {
                                let (a, v) = (Double(t[i]), Double(row[i]))
                                squared += (a - v) * (a - v)
                                dot += a * v
                            }
                        }
                        let denominator = targetNorms[k] * norm.squareRoot()
                        es[r * tcount + k] = squared.squareRoot()
                        cs[r * tcount + k] = denominator > 0 ? Swift.min(2, Swift.max(0, 1 - dot / denominator)) : 1
                    }
                }
                if b * dim * tcount < 1 << 16 {
                    for r in 0..<b { work(r) }
                } else {
                    DispatchQueue.concurrentPerform(iterations: b, execute: work)
                }
            } }
        }
        for k in 0..<tcount {
            euclidean[k].append(contentsOf: (0..<b).map { euc[$0 * tcount + k] })
            cosine[k].append(contentsOf: (0..<b).map { cos[$0 * tcount + k] })
        }
    }

    /// Indices of the `count` smallest distances, ascending, ties by lower index; NaNs last.
    public static func nearest(_ distances: [Double], count: Int) -> [Int] {
        let order = distances.indices.sorted { i, j in
            let (a, b) = (distances[i], distances[j])
            if a.isNaN || b.isNaN { return a.isNaN == b.isNaN ? i < j : b.isNaN }
            return a != b ? a < b : i < j
        }
        return Array(order.prefix(Swift.max(0, count)))
    }
}
