import CBLAS

/// Eigenpairs of a real symmetric matrix, through LAPACK's `dsyevr` (multiple relatively robust
/// representations: all eigenpairs or an index range, O(n²) after the tridiagonal reduction).
///
/// PCA needs every eigenpair of a d×d covariance, classical MDS the largest few of an n×n Gram
/// matrix and UMAP's spectral initialisation the smallest few of a normalised Laplacian; `dsyevr` with
/// `RANGE='I'` serves all three and is what numpy/scipy's `eigh` call underneath (`dsyevd`/`dsyevr`),
/// so eigenvalues agree with the Python references to rounding.
enum SymmetricEigen {
    /// Eigenvalues ascending with their unit eigenvectors (`vectors[j]` belongs to `values[j]`).
    struct Result {
        var values: [Double]
        var vectors: [[Double]]
    }

    /// The eigenpairs of the symmetric `n`×`n` matrix `matrix` (row-major; only symmetry is assumed,
    /// the upper triangle is read) whose ascending ranks (0-based) lie in `ranks`, or all of them.
    /// Returns nil if LAPACK reports a failure (it does not for finite input) or the input is empty.
    static func decompose(_ matrix: [Double], n: Int, ranks: ClosedRange<Int>? = nil) -> Result? {
        guard n > 0, matrix.count == n * n, matrix.allSatisfy(\.isFinite) else { return nil }
        let range = ranks.map { max(0, $0.lowerBound)...min(n - 1, $0.upperBound) } ?? 0...(n - 1)
        guard !range.isEmpty else { return nil }
        var a = matrix                                   // symmetric: row- and column-major agree
        let wanted = range.count
        var values = [Double](repeating: 0, count: n)
        var vectors = [Double](repeating: 0, count: n * wanted)
        var support = [Int32](repeating: 0, count: 2 * max(1, wanted))
        var found: Int32 = 0
        let whole = range.count == n
        let info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")),
                                  CChar(UInt8(ascii: whole ? "A" : "I")), CChar(UInt8(ascii: "U")),
                                  Int32(n), &a, Int32(n), 0, 0,
                                  Int32(range.lowerBound + 1), Int32(range.upperBound + 1),
                                  0, &found, &values, &vectors, Int32(n), &support)
        guard info == 0, Int(found) == wanted else { return nil }
        let columns = (0..<wanted).map { j in Array(vectors[(j * n)..<((j + 1) * n)]) }
        return Result(values: Array(values[0..<wanted]), vectors: columns)
    }

    /// Flips `vector` so that its largest-magnitude entry (the first one on ties) is positive: the
    /// convention of scikit-learn's `svd_flip(u_based_decision=False)`, which makes PCA components and
    /// embedding axes reproducible across LAPACK builds.
    static func fixSign(_ vector: inout [Double]) {
        var best = 0
        for i in vector.indices where abs(vector[i]) > abs(vector[best]) { best = i }
        if !vector.isEmpty, vector[best] < 0 {
            for i in vector.indices { vector[i] = -vector[i] }
        }
    }
}

/// Small dense helpers for row-major matrices.
enum Dense {
    /// `rows` flattened row-major (all rows must have `columns` entries).
    static func flatten(_ rows: [[Double]], columns: Int) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(rows.count * columns)
        for row in rows { out.append(contentsOf: row) }
        return out
    }

    /// Double centring `B = −½·J·(D∘D)·J` with `J = I − 11ᵀ/n` (Torgerson 1952): the Gram matrix of
    /// centred coordinates when `D` is Euclidean. Returned row-major n×n.
    static func doubleCentredGram(_ distances: [[Double]]) -> [Double] {
        let n = distances.count
        var b = [Double](repeating: 0, count: n * n)
        var rowMean = [Double](repeating: 0, count: n)
        var total = 0.0
        for i in 0..<n {
            var s = 0.0
            for j in 0..<n {
                let d2 = distances[i][j] * distances[i][j]
                b[i * n + j] = d2
                s += d2
            }
            rowMean[i] = s / Double(n)
            total += s
        }
        let grand = total / Double(n * n)
        // Column means equal row means only for symmetric input; use both to stay exact for either.
        var columnMean = [Double](repeating: 0, count: n)
        for i in 0..<n { for j in 0..<n { columnMean[j] += b[i * n + j] } }
        for j in 0..<n { columnMean[j] /= Double(n) }
        for i in 0..<n {
            for j in 0..<n { b[i * n + j] = -0.5 * (b[i * n + j] - rowMean[i] - columnMean[j] + grand) }
        }
        // Symmetrise so LAPACK's triangle choice cannot matter for slightly asymmetric input.
        for i in 0..<n {
            for j in (i + 1)..<n {
                let m = 0.5 * (b[i * n + j] + b[j * n + i])
                b[i * n + j] = m
                b[j * n + i] = m
            }
        }
        return b
    }
}
