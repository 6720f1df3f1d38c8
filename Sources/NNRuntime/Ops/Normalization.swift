/// Batch normalisation over the channel axis of NCHW (or NC) tensors, train and eval.

/// Normalises `x` per channel (axis 1): `y = γ·(x − μ)/√(σ² + ε) + β`.
///
/// In training the batch mean and biased variance normalise, and the running statistics are updated
/// with `momentum` using the *unbiased* variance, exactly as PyTorch's `F.batch_norm`. In evaluation
/// the running statistics normalise and are returned unchanged. One fused op with the textbook VJP
/// (Ioffe & Szegedy, 2015): in training
/// `dx = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂))`, in evaluation `dx = γ·g/σ`.
///
/// - Returns: the output and the (updated) running mean and variance.
public func batchNorm(_ x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor?, bias: Tensor?,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5)
    -> (output: Tensor, runningMean: Tensor, runningVar: Tensor) {
    precondition(x.rank >= 2, "batchNorm: expected [N, C, ...] input, got \(x.shape)")
    let (n, c) = (x.shape[0], x.shape[1])
    let inner = x.shape[2...].reduce(1, *)
    let perChannel = n * inner
    precondition(runningMean.shape == [c] && runningVar.shape == [c],
                 "batchNorm: running statistics \(runningMean.shape), \(runningVar.shape) do not match \(c) channels")
    precondition(weight.map { $0.shape == [c] } ?? true && bias.map { $0.shape == [c] } ?? true,
                 "batchNorm: weight/bias must have shape [\(c)]")
    precondition(!training || perChannel > 1,
                 "batchNorm: training needs more than one value per channel, got input \(x.shape)")

    // Per-channel statistics: the batch's (training, two passes in double precision, as PyTorch's CPU
    // kernel) or the running ones (evaluation). Channels run in parallel.
    var mean = [Float](repeating: 0, count: c), invStd = mean
    var newMean = runningMean, newVar = runningVar
    if training {
        var batchMean = [Double](repeating: 0, count: c), batchVar = batchMean
        x.withUnsafeBufferPointer { p in batchMean.withUnsafeMutableBufferPointer { bm in batchVar.withUnsafeMutableBufferPointer { bv in
            let (xs, bm, bv) = (p.baseAddress!, bm.baseAddress!, bv.baseAddress!)
            Parallel.forEach(c) { ch in
                var s = 0.0
                for i in 0..<n { s += doubleSum(xs + (i * c + ch) * inner, count: inner) }
                let m = s / Double(perChannel)
                var s2 = 0.0
                for i in 0..<n { s2 += centeredSquares(xs + (i * c + ch) * inner, count: inner, mean: m) }
                (bm[ch], bv[ch]) = (m, s2 / Double(perChannel))
            }
        } } }
        for ch in 0..<c {
            let (m, v) = (batchMean[ch], batchVar[ch])
            mean[ch] = Float(m)
            invStd[ch] = Float(1 / (v + Double(eps)).squareRoot())
            newMean[index: ch] = (1 - momentum) * runningMean[index: ch] + momentum * Float(m)
            newVar[index: ch] = (1 - momentum) * runningVar[index: ch]
                + momentum * Float(v * Double(perChannel) / Double(perChannel - 1))
        }
    } else {
        for ch in 0..<c {
            mean[ch] = runningMean[index: ch]
            invStd[ch] = 1 / (runningVar[index: ch] + eps).squareRoot()
        }
    }
    let gamma = weight?.scalars ?? [Float](repeating: 1, count: c)
    let beta = bias?.scalars ?? [Float](repeating: 0, count: c)
    let out = Tensor(shape: x.shape) { dst in
        x.withUnsafeBufferPointer { p in
            let (xs, ys) = (p.baseAddress!, dst.baseAddress!)
            Parallel.forEach(n * c) { plane in
                let ch = plane % c, base = plane * inner
                let scale = gamma[ch] * invStd[ch], shift = beta[ch] - mean[ch] * scale
                for j in 0..<inner { ys[base + j] = xs[base + j] * scale + shift }
            }
        }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    // Frozen statistics and parameters (evaluation, as DORA and attribution run) need no sums.
    let needGamma = weight?.requiresGradient ?? false, needBeta = bias?.requiresGradient ?? false
    let needSums = training || needGamma || needBeta
    let result = recordOp(.batchNorm, inputs: inputs, output: out) { g in
        // Per-channel sums in double precision, as PyTorch's CPU kernel accumulates: the bias
        // gradient of a BatchNorm followed by another train-mode BatchNorm is a near-total
        // cancellation, and Adam's normalised update magnifies its rounding error.
        var sumGD = [Double](repeating: 0, count: c), sumGXD = sumGD
        if needSums { g.withUnsafeBufferPointer { pg in x.withUnsafeBufferPointer { px in
            sumGD.withUnsafeMutableBufferPointer { sg in sumGXD.withUnsafeMutableBufferPointer { sgx in
                let (gs, xs, sg, sgx) = (pg.baseAddress!, px.baseAddress!, sg.baseAddress!, sgx.baseAddress!)
                Parallel.forEach(c) { ch in
                    var a = 0.0, b = 0.0
                    for i in 0..<n {
                        let base = (i * c + ch) * inner
                        let (pa, pb) = sumAndCenteredDot(gs + base, xs + base, count: inner, mean: mean[ch])
                        a += pa; b += pb
                    }
                    (sg[ch], sgx[ch]) = (a, b * Double(invStd[ch]))
                }
            } }
        } } }
        let sumG = sumGD.map { Float($0) }, sumGX = sumGXD.map { Float($0) }
        let dx = Tensor(shape: x.shape) { dst in
            g.withUnsafeBufferPointer { pg in x.withUnsafeBufferPointer { px in
                let (gs, xs, ds) = (pg.baseAddress!, px.baseAddress!, dst.baseAddress!)
                Parallel.forEach(n * c) { plane in
                    let ch = plane % c, base = plane * inner
                    let k = gamma[ch] * invStd[ch]
                    if training {
                        let mg = sumG[ch] / Float(perChannel), mgx = sumGX[ch] / Float(perChannel)
                        let (m, inv) = (mean[ch], invStd[ch])
                        for j in 0..<inner {
                            let xhat = (xs[base + j] - m) * inv
                            ds[base + j] = k * (gs[base + j] - mg - xhat * mgx)
                        }
                    } else {
                        for j in 0..<inner { ds[base + j] = k * gs[base + j] }
                    }
                }
            } }
        }
        var grads: [Tensor?] = [dx]
        if weight != nil { grads.append(needGamma ? Tensor(sumGX) : nil) }
        if bias != nil { grads.append(needBeta ? Tensor(sumG) : nil) }
        return grads
    }
    return (result, newMean, newVar)
}

/// `Σ p[j]` in double precision, eight lanes at a time.
@inline(__always)
private func doubleSum(_ p: UnsafePointer<Float>, count: Int) -> Double {
    var acc = SIMD8<Double>(), j = 0
    while j + 8 <= count { acc += SIMD8<Double>(UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)); j += 8 }
    var total = acc.sum()
    while j < count { total += Double(p[j]); j += 1 }
    return total
}

/// `Σ (p[j] − mean)²` in double precision.
@inline(__always)
private func centeredSquares(_ p: UnsafePointer<Float>, count: Int, mean: Double) -> Double {
    var acc = SIMD8<Double>(), j = 0
    let m = SIMD8<Double>(repeating: mean)
    while j + 8 <= count {
        let d = SIMD8<Double>(UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)) - m
        acc += d * d
        j += 8
    }
    var total = acc.sum()
    while j < count { let d = Double(p[j]) - mean; total += d * d; j += 1 }
    return total
}

/// `(Σ g[j], Σ g[j]·(x[j] − mean))` in double precision (the difference itself in float, as before).
@inline(__always)
private func sumAndCenteredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mean: Float) -> (Double, Double) {
    var a = SIMD8<Double>(), b = SIMD8<Double>(), j = 0
    let m = SIMD8<Float>(repeating: mean)
    while j + 8 <= count {
        let gv = SIMD8<Double>(UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self))
        let dv = SIMD8<Double>(UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) - m)
        a += gv
        b += gv * dv
        j += 8
    }
    var (sa, sb) = (a.sum(), b.sum())
    while j < count { sa += Double(g[j]); sb += Double(g[j]) * Double(x[j] - mean); j += 1 }
    return (sa, sb)
}

/// Zeroes each element with probability `probability` and scales survivors by `1 / (1 − p)`
/// (inverted dropout, PyTorch's), drawing the mask from `generator`; the identity when not training.
public func dropout(_ x: Tensor, probability p: Float, training: Bool, generator: inout SeededGenerator) -> Tensor {
    precondition((0...1).contains(p), "dropout: probability \(p) is outside [0, 1]")
    guard training, p > 0 else { return x }
    let scale: Float = p < 1 ? 1 / (1 - p) : 0
    let mask = Tensor(shape: x.shape) { m in for i in m.indices { m[i] = generator.nextUniform() >= p ? scale : 0 } }
    let out = x.detached().zipMap(mask, *)
    return recordOp(.dropout, inputs: [x], output: out) { g in [g.zipMap(mask, *)] }
}
