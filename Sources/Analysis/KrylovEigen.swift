import Foundation
import NNRuntime

/// The few largest eigenpairs of a large sparse symmetric operator, for UMAP's spectral
/// initialisation of graphs too big for a dense eigendecomposition (O(n³)).
///
/// A thick-restarted Lanczos method in its simplest robust form: the basis is extended by applying
/// the operator to the newest basis vector and orthogonalising twice (full reorthogonalisation, so no
/// ghost eigenvalues); the projected matrix VᵀAV is formed explicitly from the stored images AV, and
/// when the basis is full it is shrunk to the leading Ritz vectors (their images are combinations of
/// the stored images, no extra products) and the expansion continues from the last image, which keeps
/// the Krylov continuation of Wu & Simon's thick restart. It plays the role ARPACK's `eigsh` plays in
/// umap-learn.
enum KrylovEigen {
    /// Unit eigenvectors of the `count` largest eigenvalues (descending) of the symmetric operator
    /// `apply` on ℝⁿ restricted to the orthogonal complement of the orthonormal vectors `deflate`
    /// (which must be eigenvectors of the operator). Nil when the residuals ‖Ay − θy‖ stay above
    /// `tolerance` after `maxRestarts` restarts (the operator's norm is assumed to be about 1).
    static func largest(count: Int, n: Int, deflate: [[Double]] = [], tolerance: Double = 1e-7,
                        basisSize: Int? = nil, maxRestarts: Int = 500, seed: UInt64 = 0x5EED,
                        apply: ([Double]) -> [Double]) -> [[Double]]? {
        let available = n - deflate.count
        guard count > 0, available >= count else { return nil }
        let size = min(available, basisSize ?? max(2 * count + 24, 32))
        let keep = min(size - 1, count + max(4, size / 3))
        var generator = SeededGenerator(seed: seed)
        var basis: [[Double]] = [], images: [[Double]] = []
        var next = [Double](repeating: 1, count: n)          // umap-learn starts ARPACK from ones too
        for _ in 0...maxRestarts {
            while basis.count < size {
                var exhausted = !orthonormalise(&next, against: deflate + basis)
                if exhausted {
                    next = (0..<n).map { _ in Outliers.randomUnit(using: &generator) - 0.5 }
                    exhausted = !orthonormalise(&next, against: deflate + basis)
                }
                if exhausted { break }                            // the basis spans the whole space
                basis.append(next)
                let image = apply(next)
                images.append(image)
                next = image
            }
            let m = basis.count
            guard m >= count else { return nil }
            var projected = [Double](repeating: 0, count: m * m)
            for i in 0..<m {
                for j in i..<m {
                    let h = 0.5 * (dot(basis[i], images[j]) + dot(basis[j], images[i]))
                    projected[i * m + j] = h
                    projected[j * m + i] = h
                }
            }
            guard let ritz = SymmetricEigen.decompose(projected, n: m) else { return nil }
            let retained = min(m, m == available ? count : keep)
            var vectors: [[Double]] = [], vectorImages: [[Double]] = []
            var worst = 0.0
            for r in 0..<retained {
                let z = ritz.vectors[m - 1 - r], theta = ritz.values[m - 1 - r]
                var y = [Double](repeating: 0, count: n), ay = [Double](repeating: 0, count: n)
                for k in 0..<m where z[k] != 0 {
                    axpy(z[k], basis[k], &y)
                    axpy(z[k], images[k], &ay)
                }
                if r < count {
                    var residual = 0.0
                    for i in 0..<n { residual += (ay[i] - theta * y[i]) * (ay[i] - theta * y[i]) }
                    worst = max(worst, residual.squareRoot())
                }
                vectors.append(y)
                vectorImages.append(ay)
            }
            if worst <= tolerance || m == available { return Array(vectors.prefix(count)) }
            // The next Lanczos direction: the last image less its part in the whole current basis.
            next = images[m - 1]
            if !orthonormalise(&next, against: deflate + basis) {
                next = (0..<n).map { _ in Outliers.randomUnit(using: &generator) - 0.5 }
            }
            basis = vectors
            images = vectorImages
        }
        return nil
    }

    /// Makes `v` orthogonal to the orthonormal `vectors` (classical Gram–Schmidt, twice) and unit
    /// length; false when nothing independent is left (norm below 1e-10 of the original).
    static func orthonormalise(_ v: inout [Double], against vectors: [[Double]]) -> Bool {
        let original = dot(v, v).squareRoot()
        guard original > 0, original.isFinite else { return false }
        for _ in 0..<2 {
            let coefficients = vectors.map { dot($0, v) }
            for (c, u) in zip(coefficients, vectors) where c != 0 { axpy(-c, u, &v) }
        }
        let norm = dot(v, v).squareRoot()
        guard norm > 1e-10 * original else { return false }
        for i in v.indices { v[i] /= norm }
        return true
    }

    @inline(__always) static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    @inline(__always) static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        for i in x.indices { y[i] += alpha * x[i] }
    }
}
