import Foundation
import NNRuntime

/// The Extreme-Activation distance between neurons (Bykov et al. 2023, §3.2, Eq. 3): two neurons are
/// close when they respond alike to each other's maximising signals. Row `i` of the mean activation
/// matrix Ā is how every analysed neuron responds to neuron `i`'s s-AMS.
public enum EADistance {
    /// Which responses the cosine compares.
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Whole rows: every analysed neuron's response to the two neurons' signals (the default).
        case layerwise
        /// Only the two neurons involved: (Ā[i,i], Ā[i,j]) against (Ā[j,i], Ā[j,j]).
        case pairwise
    }

    /// `d(i, j) = √((1 − clip(cos(u, v), −1, 1)) / 2)`, in [0, 1], 0 on the diagonal, symmetrised and
    /// with NaN as 0, as the reference's post-processing.
    ///
    /// - Parameter activations: Ā, `k` rows (signal owners) by `m` responding neurons. Pair-wise mode
    ///   needs the square case whose column `i` is row `i`'s own neuron.
    public static func matrix(_ activations: [[Double]], mode: Mode = .layerwise) throws -> [[Double]] {
        let k = activations.count
        guard k > 0 else { throw DoraError("EA distance: the activation matrix has no rows") }
        let m = activations[0].count
        guard m > 0, activations.allSatisfy({ $0.count == m }) else {
            throw DoraError("EA distance: rows of the activation matrix differ in length or are empty (expected \(m) columns each)")
        }
        if mode == .pairwise && m != k {
            throw DoraError("EA distance: pair-wise mode needs a square activation matrix, got \(k)×\(m)")
        }
        var d = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        switch mode {
        case .layerwise:
            let unit = activations.map { row -> [Double] in
                let norm = max(row.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-5)
                return row.map { $0 / norm }
            }
            for i in 0..<k {
                for j in i + 1..<max(k, i + 1) {
                    var dot = 0.0
                    for c in 0..<m { dot += unit[i][c] * unit[j][c] }
                    d[i][j] = distance(cosine: dot)
                }
            }
        case .pairwise:
            for i in 0..<k {
                for j in i + 1..<max(k, i + 1) {
                    let u = (activations[i][i], activations[i][j]), v = (activations[j][i], activations[j][j])
                    let nu = max((u.0 * u.0 + u.1 * u.1).squareRoot(), 1e-5), nv = max((v.0 * v.0 + v.1 * v.1).squareRoot(), 1e-5)
                    d[i][j] = distance(cosine: (u.0 * v.0 + u.1 * v.1) / (nu * nv))
                }
            }
        }
        // The loops fill the upper triangle of an exactly symmetric computation; mirror it.
        for i in 0..<k { for j in 0..<i { d[i][j] = d[j][i] } }
        return d
    }

    @inline(__always) static func distance(cosine c: Double) -> Double {
        let v = ((1 - min(max(c, -1), 1)) / 2).squareRoot()
        return v.isNaN ? 0 : v
    }

    /// Ā from the `[k, m, n]` activation tensor: the mean over the `n` signals of each owner.
    public static func meanActivations(_ a: Tensor) throws -> [[Double]] {
        switch a.rank {
        case 2:
            let (k, m) = (a.shape[0], a.shape[1])
            let s = a.scalars
            return (0..<k).map { i in (0..<m).map { Double(s[i * m + $0]) } }
        case 3:
            let (k, m, n) = (a.shape[0], a.shape[1], a.shape[2])
            let s = a.scalars
            return (0..<k).map { i in (0..<m).map { j in
                (0..<n).reduce(0.0) { $0 + Double(s[(i * m + j) * n + $1]) } / Double(n)
            } }
        default:
            throw DoraError("activations of shape \(a.shape): expected k×m or k×m×n (rows = signal owners, columns = responding neurons)")
        }
    }
}
