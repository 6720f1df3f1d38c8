import Foundation
import CBLAS

/// Matrix products through OpenBLAS `cblas_sgemm`, the machine's fastest kernel, and the `linear`
/// layer's `x · Wᵀ + b` with PyTorch's `[out, in]` weight layout.

/// `C = op(A) · op(B)` into `c` (row-major), where `op` transposes when asked.
@inline(__always)
func sgemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
           m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
           alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
    guard m > 0, n > 0 else { return }
    let ldc = ldc ?? n
    if k == 0 {
        if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        return
    }
    let lda = lda ?? (transposeA ? m : k), ldb = ldb ?? (transposeB ? k : n)
    let (ta, tb) = (transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans)
    Threading.configure()
    // OpenBLAS runs single-threaded; a large product is split into blocks of rows (or of columns)
    // across the cores here, so no OpenBLAS thread ever spins beside the runtime's own workers.
    let workers = m * n * k >= 1 << 20 ? Parallel.workerCount : 1
    if workers > 1 && Swift.max(m, n) >= 2 * workers {
        let splitRows = m >= n
        Parallel.forEachRange(splitRows ? m : n) { range, _ in
            if splitRows {
                let aBlock = transposeA ? a + range.lowerBound : a + range.lowerBound * lda
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(range.count), Int32(n), Int32(k), alpha, aBlock, Int32(lda),
                            b, Int32(ldb), beta, c + range.lowerBound * ldc, Int32(ldc))
            } else {
                let bBlock = transposeB ? b + range.lowerBound * ldb : b + range.lowerBound
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(range.count), Int32(k), alpha, a, Int32(lda),
                            bBlock, Int32(ldb), beta, c + range.lowerBound, Int32(ldc))
            }
        }
        return
    }
    cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// `a · b` with optional transposes, no gradient (the VJPs use it).
func matmulRaw(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    let batch = a.rank == 3 ? a.shape[0] : 1
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let m = transposeA ? ac : ar, k = transposeA ? ar : ac
    let n = transposeB ? br : bc
    precondition(k == (transposeB ? bc : br), "matmul: inner dimensions differ in \(a.shape) · \(b.shape)")
    let shape = a.rank == 3 ? [batch, m, n] : [m, n]
    return Tensor(shape: shape) { out in
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            for i in 0..<batch {
                sgemm(pa.baseAddress! + i * ar * ac, pb.baseAddress! + i * br * bc, out.baseAddress! + i * m * n,
                      m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
            }
        } }
    }
}

/// Matrix product of `[M, K] · [K, N]`, or batched `[B, M, K] · [B, K, N]`.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition((a.rank == 2 && b.rank == 2) || (a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0]),
                 "matmul: expected [M, K]·[K, N] or [B, M, K]·[B, K, N], got \(a.shape) · \(b.shape)")
    let out = matmulRaw(a, b)
    let (needA, needB) = (a.requiresGradient, b.requiresGradient)
    return recordOp(.matmul, inputs: [a, b], output: out) { g in
        // dA = G · Bᵀ, dB = Aᵀ · G
        [needA ? matmulRaw(g, b, transposeB: true) : nil, needB ? matmulRaw(a, g, transposeA: true) : nil]
    }
}

extension Tensor {
    /// Matrix product (see ``matmul(_:_:)``).
    public func matmul(_ other: Tensor) -> Tensor { NNRuntime.matmul(self, other) }
}

/// `x · Wᵀ + b` for `x` of shape `[N, in]`, `weight` `[out, in]` and `bias` `[out]` (PyTorch
/// `F.linear`), fused so the bias is added without a broadcast pass.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
                 "linear: input \(x.shape) does not match weight \(weight.shape) (expected [N, \(weight.rank == 2 ? weight.shape[1] : 0)])")
    if let bias {
        precondition(bias.shape == [weight.shape[0]], "linear: bias \(bias.shape) does not match weight \(weight.shape)")
    }
    let n = x.shape[0], out = weight.shape[0]
    let y = Tensor(shape: [n, out]) { dst in
        if let bias {
            bias.withUnsafeBufferPointer { pb in
                for i in 0..<n { (dst.baseAddress! + i * out).update(from: pb.baseAddress!, count: out) }
            }
        }
        x.withUnsafeBufferPointer { px in weight.withUnsafeBufferPointer { pw in
            sgemm(px.baseAddress!, pw.baseAddress!, dst.baseAddress!, m: n, n: out, k: x.shape[1],
                  transposeB: true, beta: bias == nil ? 0 : 1)
        } }
    }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    let (needX, needW, needB) = (x.requiresGradient, weight.requiresGradient, bias?.requiresGradient ?? false)
    return recordOp(.linear, inputs: inputs, output: y) { g in
        // dX = G · W, dW = Gᵀ · X, db = Σₙ G; only those that are wanted.
        var grads: [Tensor?] = [needX ? matmulRaw(g, weight) : nil, needW ? matmulRaw(g, x, transposeA: true) : nil]
        if bias != nil { grads.append(needB ? g.sum(axes: [0]) : nil) }
        return grads
    }
}

/// Threads of the runtime's kernels: matrix products (split into blocks here, with OpenBLAS
/// itself single-threaded), convolutions, pooling, FFTs and warps. The default is the
/// `OPENBLAS_NUM_THREADS` environment variable or the core count.
public enum Threading {
    nonisolated(unsafe) private static var count: Int = {
        if let text = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"], let n = Int(text), n >= 1 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }()
    nonisolated(unsafe) private static var configured = false

    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "Threading.setThreadCount: need at least one thread, got \(n)")
        count = n
    }

    public static var threadCount: Int { count }

    /// Makes OpenBLAS single-threaded, once: its pool threads would otherwise spin beside ours.
    @inline(__always)
    static func configure() {
        guard !configured else { return }
        configured = true
        openblas_set_num_threads(1)
    }
}
