import NNRuntime

/// Comparison helpers shared by the test targets.
public enum Compare {
    /// The largest `|a − b|` divided by `max(1, max|b|)`: an absolute error for values of order one,
    /// a relative one for large values ("max-abs-diff relative to magnitude").
    public static func maxScaledDifference(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "compare: shapes \(a.shape) and \(b.shape) differ")
        let pa = a.scalars, pb = b.scalars
        let scale = max(1, pb.map { Swift.abs($0) }.max() ?? 0)
        var worst: Float = 0
        for i in 0..<pa.count {
            let d = Swift.abs(pa[i] - pb[i])
            if d.isNaN { return .infinity }
            worst = max(worst, d)
        }
        return worst / scale
    }

    /// True when `a` and `b` have the same shape and agree to `tolerance` (scaled as above).
    public static func close(_ a: Tensor, _ b: Tensor, tolerance: Float = 1e-5) -> Bool {
        a.shape == b.shape && maxScaledDifference(a, b) <= tolerance
    }
}
