/// Max, average and adaptive-average pooling over NCHW tensors, with PyTorch's output-size rules
/// (including `ceil_mode`) and VJPs that accumulate correctly for overlapping windows.

/// PyTorch's pooling output size: `floor` (or `ceil`) of `(in + 2p − d(k − 1) − 1)/s + 1`, where in
/// ceil mode the last window must start inside the input or its left padding.
func poolOutputSize(_ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, ceilMode: Bool, op: String) -> Int {
    precondition(kernel > 0 && stride > 0 && dilation > 0, "\(op): kernel, stride and dilation must be positive")
    precondition(padding >= 0 && padding <= kernel / 2,
                 "\(op): padding \(padding) must be between 0 and half the kernel size \(kernel)")
    let span = size + 2 * padding - dilation * (kernel - 1) - 1
    precondition(span >= 0, "\(op): window \(kernel) (dilation \(dilation)) is larger than the padded input \(size)")
    var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
    if ceilMode && (out - 1) * stride >= size + padding { out -= 1 }
    return out
}

private func planes(_ x: Tensor, _ op: String) -> (Int, Int, Int) {
    precondition(x.rank == 4, "\(op): expected [N, C, H, W], got \(x.shape)")
    return (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
}

/// Max over each window; padded positions never win. The gradient goes to the first maximal
/// position of each window (PyTorch's argmax), summed where windows overlap.
public func maxPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                      dilation: (Int, Int) = (1, 1), ceilMode: Bool = false) -> Tensor {
    let (planeCount, h, w) = planes(x, "maxPool2d")
    let s = stride ?? kernelSize
    let ho = poolOutputSize(h, kernel: kernelSize.0, stride: s.0, padding: padding.0, dilation: dilation.0, ceilMode: ceilMode, op: "maxPool2d")
    let wo = poolOutputSize(w, kernel: kernelSize.1, stride: s.1, padding: padding.1, dilation: dilation.1, ceilMode: ceilMode, op: "maxPool2d")
    // The winning position of each window, kept only when a gradient will be asked for.
    let needArgmax = x.requiresGradient
    var argmax = [Int32](repeating: -1, count: needArgmax ? planeCount * ho * wo : 0)
    // Per output row, the kernel rows that land inside the input (padding never wins).
    let rows = (0..<ho).map { oy in validRange(outputs: kernelSize.0, stride: dilation.0, offset: oy * s.0 - padding.0, size: h) }
    // The common 2×2, stride-2 window without padding (VGG, the MNIST CNN) gets a branch-light loop.
    let isPlain2x2 = kernelSize == (2, 2) && s == (2, 2) && padding == (0, 0) && dilation == (1, 1)
        && 2 * ho <= h && 2 * wo <= w
    let out = Tensor(shape: [x.shape[0], x.shape[1], ho, wo]) { dst in
        x.withUnsafeBufferPointer { px in argmax.withUnsafeMutableBufferPointer { am in
            let src = px.baseAddress!, ys = dst.baseAddress!, winners = needArgmax ? am.baseAddress : nil
            Parallel.forEachRange(planeCount) { planes, _ in
                // A row of running maxima, updated tap by tap in the window's row-major order, so each
                // inner loop runs along an output row without bounds tests.
                let index = UnsafeMutablePointer<Int32>.allocate(capacity: wo)
                defer { index.deallocate() }
                for pl in planes {
                    let plane = src + pl * h * w
                    if isPlain2x2 {
                        maxPool2x2(plane, w: w, into: ys + pl * ho * wo, winners: winners.map { $0 + pl * ho * wo }, ho: ho, wo: wo)
                        continue
                    }
                    for oy in 0..<ho {
                        let best = ys + (pl * ho + oy) * wo
                        best.update(repeating: -.infinity, count: wo)
                        index.update(repeating: -1, count: wo)
                        for ki in rows[oy] {
                            let iy = oy * s.0 - padding.0 + ki * dilation.0
                            for kj in 0..<kernelSize.1 {
                                let offset = kj * dilation.1 - padding.1
                                let line = iy * w + offset
                                let columns = validRange(outputs: wo, stride: s.1, offset: offset, size: w)
                                guard winners != nil else {
                                    // Without a gradient only the value matters: a select the compiler vectorises.
                                    for ox in columns {
                                        let v = plane[line + ox * s.1], b = best[ox]
                                        best[ox] = v > b || v != v ? v : b
                                    }
                                    continue
                                }
                                for ox in columns {
                                    let v = plane[line + ox * s.1], b = best[ox]
                                    // The first maximum wins; a NaN wins over numbers, and the first NaN stays.
                                    if index[ox] < 0 || (!b.isNaN && (v > b || v.isNaN)) {
                                        best[ox] = v
                                        index[ox] = Int32(line + ox * s.1)
                                    }
                                }
                            }
                        }
                        winners.map { ($0 + (pl * ho + oy) * wo).update(from: index, count: wo) }
                    }
                }
            }
        } }
    }
    return recordOp(.maxPool2d, inputs: [x], output: out) { g in
        [Tensor(shape: x.shape) { dx in
            g.withUnsafeBufferPointer { pg in argmax.withUnsafeBufferPointer { am in
                let dxs = dx.baseAddress!, gs = pg.baseAddress!, winners = am.baseAddress!
                Parallel.forEachRange(planeCount) { planes, _ in
                    for pl in planes {
                        let plane = dxs + pl * h * w
                        plane.update(repeating: 0, count: h * w)
                        for o in (pl * ho * wo)..<((pl + 1) * ho * wo) where winners[o] >= 0 {
                            plane[Int(winners[o])] += gs[o]
                        }
                    }
                }
            } }
        }]
    }
}

/// One plane of 2×2, stride-2 max pooling: the first maximum in row-major order wins, and a NaN
/// wins over numbers (PyTorch's rule), as in the general loop. Eight windows at a time, branch-free:
/// the window's two rows are loaded as vectors and split into their even and odd columns.
@inline(__always)
private func maxPool2x2(_ plane: UnsafePointer<Float>, w: Int, into y: UnsafeMutablePointer<Float>,
                        winners: UnsafeMutablePointer<Int32>?, ho: Int, wo: Int) {
    typealias V8 = SIMD8<Float>
    typealias I8 = SIMD8<Int32>
    let lanes = I8(0, 2, 4, 6, 8, 10, 12, 14)
    for oy in 0..<ho {
        let r0 = plane + 2 * oy * w, r1 = r0 + w
        let out = y + oy * wo, rowBase = Int32(2 * oy * w)
        var ox = 0
        while ox + 8 <= wo {
            let top = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
            let bottom = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
            var best = top.evenHalf, code = I8(repeating: 0)
            @inline(__always) func visit(_ v: V8, _ offset: Int32) {
                let take = (v .> best) .| ((v .!= v) .& (best .== best))
                best.replace(with: v, where: take)
                code.replace(with: I8(repeating: offset), where: take)
            }
            visit(top.oddHalf, 1)
            visit(bottom.evenHalf, Int32(w))
            visit(bottom.oddHalf, Int32(w + 1))
            UnsafeMutableRawPointer(out + ox).storeBytes(of: best, as: V8.self)
            if let winners {
                let index = code &+ lanes &+ I8(repeating: rowBase + Int32(2 * ox))
                UnsafeMutableRawPointer(winners + oy * wo + ox).storeBytes(of: index, as: I8.self)
            }
            ox += 8
        }
        for ox in ox..<wo {
            let j = 2 * ox
            let base = 2 * oy * w + j
            var best = r0[j], bi = base
            // Selects, not branches: after a ReLU, ties at 0 make branches unpredictable.
            @inline(__always) func visit(_ v: Float, _ index: Int) {
                let take = v > best || (v != v && best == best)
                best = take ? v : best
                bi = take ? index : bi
            }
            visit(r0[j + 1], base + 1)
            visit(r1[j], base + w)
            visit(r1[j + 1], base + w + 1)
            out[ox] = best
            winners?[oy * wo + ox] = Int32(bi)
        }
    }
}

/// Mean over each window. The divisor is the window clipped to the padded input (or, with
/// `countIncludePad` false, to the input itself), exactly as PyTorch computes it.
public func avgPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                      ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
    let (planeCount, h, w) = planes(x, "avgPool2d")
    let s = stride ?? kernelSize
    let ho = poolOutputSize(h, kernel: kernelSize.0, stride: s.0, padding: padding.0, dilation: 1, ceilMode: ceilMode, op: "avgPool2d")
    let wo = poolOutputSize(w, kernel: kernelSize.1, stride: s.1, padding: padding.1, dilation: 1, ceilMode: ceilMode, op: "avgPool2d")
    // Window bounds and divisor per output position, shared by forward and backward.
    struct Window { let y0, y1, x0, x1: Int; let scale: Float }
    var windows: [Window] = []
    windows.reserveCapacity(ho * wo)
    for oy in 0..<ho {
        for ox in 0..<wo {
            var y0 = oy * s.0 - padding.0, x0 = ox * s.1 - padding.1
            var y1 = Swift.min(y0 + kernelSize.0, h + padding.0), x1 = Swift.min(x0 + kernelSize.1, w + padding.1)
            let padded = (y1 - y0) * (x1 - x0)
            y0 = Swift.max(y0, 0); x0 = Swift.max(x0, 0); y1 = Swift.min(y1, h); x1 = Swift.min(x1, w)
            let count = countIncludePad ? padded : (y1 - y0) * (x1 - x0)
            windows.append(Window(y0: y0, y1: y1, x0: x0, x1: x1, scale: count > 0 ? 1 / Float(count) : 0))
        }
    }
    let out = Tensor(shape: [x.shape[0], x.shape[1], ho, wo]) { dst in
        x.withUnsafeBufferPointer { px in
            for pl in 0..<planeCount {
                let plane = px.baseAddress! + pl * h * w
                for (j, win) in windows.enumerated() {
                    var total: Float = 0
                    for iy in win.y0..<Swift.max(win.y0, win.y1) {
                        for ix in win.x0..<Swift.max(win.x0, win.x1) { total += plane[iy * w + ix] }
                    }
                    dst[pl * ho * wo + j] = total * win.scale
                }
            }
        }
    }
    return recordOp(.avgPool2d, inputs: [x], output: out) { g in
        [Tensor(shape: x.shape) { dx in
            dx.initialize(repeating: 0)
            g.withUnsafeBufferPointer { pg in
                for pl in 0..<planeCount {
                    let plane = dx.baseAddress! + pl * h * w
                    for (j, win) in windows.enumerated() {
                        let v = pg[pl * ho * wo + j] * win.scale
                        for iy in win.y0..<Swift.max(win.y0, win.y1) {
                            for ix in win.x0..<Swift.max(win.x0, win.x1) { plane[iy * w + ix] += v }
                        }
                    }
                }
            }
        }]
    }
}

/// Averages over PyTorch's adaptive bins: bin `i` of `out` covers `[⌊i·in/out⌋, ⌈(i+1)·in/out⌉)`.
public func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    let (planeCount, h, w) = planes(x, "adaptiveAvgPool2d")
    let (ho, wo) = outputSize
    precondition(ho > 0 && wo > 0, "adaptiveAvgPool2d: output size \(outputSize) must be positive")
    func bins(_ input: Int, _ output: Int) -> [(Int, Int)] {
        (0..<output).map { i in (i * input / output, ((i + 1) * input + output - 1) / output) }
    }
    let rows = bins(h, ho), cols = bins(w, wo)
    // Global pooling is the common case (every classifier head): one pass per plane.
    let out = Tensor(shape: [x.shape[0], x.shape[1], ho, wo]) { dst in
        x.withUnsafeBufferPointer { px in
            for pl in 0..<planeCount {
                let plane = px.baseAddress! + pl * h * w
                for (oy, (y0, y1)) in rows.enumerated() {
                    for (ox, (x0, x1)) in cols.enumerated() {
                        var total: Float = 0
                        for iy in y0..<y1 { for ix in x0..<x1 { total += plane[iy * w + ix] } }
                        dst[(pl * ho + oy) * wo + ox] = total / Float((y1 - y0) * (x1 - x0))
                    }
                }
            }
        }
    }
    return recordOp(.adaptiveAvgPool2d, inputs: [x], output: out) { g in
        [Tensor(shape: x.shape) { dx in
            dx.initialize(repeating: 0)
            g.withUnsafeBufferPointer { pg in
                for pl in 0..<planeCount {
                    let plane = dx.baseAddress! + pl * h * w
                    for (oy, (y0, y1)) in rows.enumerated() {
                        for (ox, (x0, x1)) in cols.enumerated() {
                            let v = pg[(pl * ho + oy) * wo + ox] / Float((y1 - y0) * (x1 - x0))
                            for iy in y0..<y1 { for ix in x0..<x1 { plane[iy * w + ix] += v } }
                        }
                    }
                }
            }
        }]
    }
}
