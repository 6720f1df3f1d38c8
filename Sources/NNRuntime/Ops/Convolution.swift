import CBLAS
import Foundation

/// 2-D convolution (cross-correlation, as PyTorch) with stride, dilation, groups and any padding,
/// forward and VJP side by side.
///
/// General case: per sample and group, the input patches are unfolded into a column matrix
/// (`im2col`, `[C/g·kH·kW, Ho·Wo]`) and multiplied by the group's weights with one `sgemm`, so the
/// work runs in OpenBLAS's tuned kernel. A 1×1 stride-1 unpadded convolution multiplies the input
/// directly. Depthwise convolutions (one input channel per group) have too little work per `sgemm`,
/// so they run a direct loop instead.

/// The resolved sizes of one convolution.
struct ConvGeometry {
    let n, c, h, w: Int
    let o, kh, kw: Int
    let sh, sw, dh, dw: Int
    let pt, pl: Int
    let groups: Int
    let ho, wo: Int
    var cg: Int { c / groups }
    var og: Int { o / groups }
    var k: Int { cg * kh * kw }
    var p: Int { ho * wo }
    var isPointwise: Bool { kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && ho == h && wo == w }
    var isDepthwise: Bool { cg == 1 && groups > 1 }

    init(input x: [Int], weight: [Int], stride: (Int, Int), padding: Padding2d, dilation: (Int, Int), groups: Int) {
        precondition(x.count == 4, "conv2d: expected input [N, C, H, W], got \(x)")
        precondition(weight.count == 4, "conv2d: expected weight [O, C/groups, kH, kW], got \(weight)")
        precondition(groups >= 1 && x[1] % groups == 0 && weight[0] % groups == 0,
                     "conv2d: groups \(groups) must divide input channels \(x[1]) and output channels \(weight[0])")
        precondition(weight[1] * groups == x[1],
                     "conv2d: input has \(x[1]) channels, weight \(weight) expects \(weight[1] * groups) (groups \(groups))")
        precondition(stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
                     "conv2d: stride \(stride) and dilation \(dilation) must be positive")
        (n, c, h, w) = (x[0], x[1], x[2], x[3])
        (o, kh, kw) = (weight[0], weight[2], weight[3])
        (sh, sw, dh, dw) = (stride.0, stride.1, dilation.0, dilation.1)
        self.groups = groups
        let pad = padding.resolve(inputHeight: h, inputWidth: w, kernel: (kh, kw), stride: stride, dilation: dilation)
        precondition(pad.top >= 0 && pad.bottom >= 0 && pad.left >= 0 && pad.right >= 0,
                     "conv2d: negative padding \(pad)")
        (pt, pl) = (pad.top, pad.left)
        let effH = h + pad.top + pad.bottom - dh * (kh - 1) - 1
        let effW = w + pad.left + pad.right - dw * (kw - 1) - 1
        precondition(effH >= 0 && effW >= 0,
                     "conv2d: kernel \(kh)×\(kw) (dilation \(dilation)) is larger than the padded input \(h)×\(w)")
        ho = effH / sh + 1
        wo = effW / sw + 1
    }

    /// The output columns `ox` whose input column `ox·sw − pl + kj·dw` lies inside the row, for
    /// kernel column `kj`: im2col copies them without a bounds test per element and zero-fills the rest.
    @inline(__always)
    func validColumns(_ kj: Int) -> Range<Int> { validRange(outputs: wo, stride: sw, offset: kj * dw - pl, size: w) }

    /// Unfolds the channels `[c0, c0 + cg)` of one sample (`src` points at the sample) into `col`,
    /// for the output rows `rows` (all by default): `col` is `[cg·kh·kw, rows.count·wo]`.
    func im2col(_ src: UnsafePointer<Float>, channel c0: Int, into col: UnsafeMutablePointer<Float>, rows: Range<Int>? = nil) {
        let rows = rows ?? 0..<ho
        let ld = rows.count * wo
        for ci in 0..<cg {
            let plane = src + (c0 + ci) * h * w
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let row = col + ((ci * kh + ki) * kw + kj) * ld
                    let valid = validColumns(kj), offset = kj * dw - pl
                    for oy in rows {
                        let iy = oy * sh - pt + ki * dh
                        let dst = row + (oy - rows.lowerBound) * wo
                        guard iy >= 0 && iy < h, !valid.isEmpty else { dst.update(repeating: 0, count: wo); continue }
                        let line = plane + iy * w + offset
                        if valid.lowerBound > 0 { dst.update(repeating: 0, count: valid.lowerBound) }
                        if sw == 1 {
                            (dst + valid.lowerBound).update(from: line + valid.lowerBound, count: valid.count)
                        } else {
                            for ox in valid { dst[ox] = line[ox * sw] }
                        }
                        if valid.upperBound < wo { (dst + valid.upperBound).update(repeating: 0, count: wo - valid.upperBound) }
                    }
                }
            }
        }
    }

    /// Adds the column matrix back onto the channels `[c0, c0 + cg)` of one sample's gradient.
    func col2im(_ col: UnsafePointer<Float>, channel c0: Int, into dst: UnsafeMutablePointer<Float>) {
        for ci in 0..<cg {
            let plane = dst + (c0 + ci) * h * w
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let row = col + ((ci * kh + ki) * kw + kj) * p
                    let valid = validColumns(kj), offset = kj * dw - pl
                    for oy in 0..<ho {
                        let iy = oy * sh - pt + ki * dh
                        guard iy >= 0 && iy < h else { continue }
                        let line = plane + iy * w + offset, src = row + oy * wo
                        if sw == 1 {
                            for ox in valid { line[ox] += src[ox] }
                        } else {
                            for ox in valid { line[ox * sw] += src[ox] }
                        }
                    }
                }
            }
        }
    }
}

/// Workers for the sample loop: one per core when the batch has a sample for each, else one.
func sampleWorkers(_ g: ConvGeometry) -> Int {
    Swift.max(1, Swift.min(Parallel.workerCount, g.n))
}

/// Runs `body(samples, worker)` over contiguous ranges of the batch, one per core: each core runs
/// its own im2col and sgemm instead of one core preparing columns while others wait for the next
/// product. Returns the number of workers used. With one worker (a batch of one), the products
/// themselves are split across the cores (see `sgemm`).
@discardableResult
func forEachSampleRange(_ g: ConvGeometry, workers: Int, _ body: (Range<Int>, Int) -> Void) -> Int {
    Parallel.forEachRange(g.n, maxWorkers: workers, body)
}

/// 2-D convolution of `x` `[N, C, H, W]` with `weight` `[O, C/groups, kH, kW]` and optional `bias`
/// `[O]`, giving `[N, O, Ho, Wo]` with `Ho = (H + top + bottom − dilation·(kH − 1) − 1) / stride + 1`.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                   padding: Padding2d = .zero, dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
    let g = ConvGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding,
                         dilation: dilation, groups: groups)
    if let bias { precondition(bias.shape == [g.o], "conv2d: bias \(bias.shape) does not match \(g.o) output channels") }
    let out = Tensor(shape: [g.n, g.o, g.ho, g.wo]) { dst in
        x.withUnsafeBufferPointer { px in weight.withUnsafeBufferPointer { pw in
            let xs = px.baseAddress!, ws = pw.baseAddress!, ys = dst.baseAddress!
            if g.isDepthwise {
                depthwiseForward(g, xs, ws, ys)
            } else if Winograd3x3.applies(to: g) {
                Winograd3x3(forward: g).convolve(xs, weight: ws, flipped: false, into: ys)
            } else {
                // About 1 MB of columns per band (L2-sized on this class of machine).
                let bandRows = Swift.max(1, Swift.min(g.ho, (1 << 18) / Swift.max(1, g.k * g.wo)))
                forEachSampleRange(g, workers: sampleWorkers(g)) { samples, _ in withScratch(g.isPointwise ? 0 : g.k * bandRows * g.wo) { col in
                    for i in samples {
                        let sample = xs + i * g.c * g.h * g.w
                        for grp in 0..<g.groups {
                            let a = ws + grp * g.og * g.k, y = ys + (i * g.o + grp * g.og) * g.p
                            if g.isPointwise { sgemm(a, sample + grp * g.cg * g.p, y, m: g.og, n: g.p, k: g.k); continue }
                            // Bands of output rows whose columns fit in cache: sgemm packs them while still warm.
                            for first in Swift.stride(from: 0, to: g.ho, by: bandRows) {
                                let band = first..<Swift.min(g.ho, first + bandRows)
                                g.im2col(sample, channel: grp * g.cg, into: col, rows: band)
                                sgemm(a, col, y + first * g.wo, m: g.og, n: band.count * g.wo, k: g.k, ldc: g.p)
                            }
                        }
                    }
                } }
            }
        } }
        if let bias {
            bias.withUnsafeBufferPointer { pb in
                for i in 0..<g.n {
                    for oc in 0..<g.o {
                        let row = dst.baseAddress! + (i * g.o + oc) * g.p
                        let b = pb[oc]
                        for j in 0..<g.p { row[j] += b }
                    }
                }
            }
        }
    }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    // Which gradients are wanted is known now; a frozen weight (DORA, attribution) or an input that
    // is not watched skips its share of the backward work.
    let needX = x.requiresGradient, needW = weight.requiresGradient
    return recordOp(.conv2d, inputs: inputs, output: out) { dy in
        var dx = Tensor.zeros(needX ? x.shape : [0]), dwt = Tensor.zeros(needW ? weight.shape : [0])
        dx.withUnsafeMutableBufferPointer { pdx in dwt.withUnsafeMutableBufferPointer { pdw in
            x.withUnsafeBufferPointer { px in weight.withUnsafeBufferPointer { pw in dy.withUnsafeBufferPointer { pdy in
                let xs = px.baseAddress!, ws = pw.baseAddress!, gy = pdy.baseAddress!
                if g.isDepthwise {
                    depthwiseBackward(g, xs, ws, gy, needX ? pdx.baseAddress! : nil, needW ? pdw.baseAddress! : nil)
                    return
                }
                // Stride-1 3×3: both gradients by Winograd's transforms (the input gradient is a
                // convolution of dy); the im2col loop below does what they leave.
                let winograd = Winograd3x3.applies(to: g)
                let winogradX = needX && winograd ? Winograd3x3(inputGradientOf: g) : nil
                winogradX?.convolve(gy, weight: ws, flipped: true, into: pdx.baseAddress!)
                if needW && winograd { Winograd3x3(forward: g).weightGradient(xs, dy: gy, into: pdw.baseAddress!) }
                let (needX, needW) = (needX && winogradX == nil, needW && !winograd)
                guard needX || needW else { return }
                // Each worker accumulates its samples' weight gradient privately; they are summed after.
                let wCount = g.o * g.k, planned = sampleWorkers(g)
                let partials = UnsafeMutablePointer<Float>.allocate(capacity: needW ? wCount * planned : 1)
                partials.initialize(repeating: 0, count: needW ? wCount * planned : 1)
                defer { partials.deallocate() }
                let workers = forEachSampleRange(g, workers: planned) { samples, worker in withScratch(g.k * g.p) { col in
                    let dwLocal = partials + worker * wCount
                    for i in samples {
                        let sample = xs + i * g.c * g.h * g.w
                        for grp in 0..<g.groups {
                            let gyg = gy + (i * g.o + grp * g.og) * g.p
                            if needW {
                                // dW_g += dY_g · colᵀ
                                let b: UnsafePointer<Float>
                                if g.isPointwise { b = sample + grp * g.cg * g.p } else {
                                    g.im2col(sample, channel: grp * g.cg, into: col); b = UnsafePointer(col)
                                }
                                sgemm(gyg, b, dwLocal + grp * g.og * g.k, m: g.og, n: g.k, k: g.p, transposeB: true, beta: 1)
                            }
                            guard needX else { continue }
                            // dcol = W_gᵀ · dY_g, folded back onto the input
                            let gsample = pdx.baseAddress! + i * g.c * g.h * g.w
                            if g.isPointwise {
                                sgemm(ws + grp * g.og * g.k, gyg, gsample + grp * g.cg * g.p, m: g.k, n: g.p, k: g.og,
                                      transposeA: true)
                            } else {
                                sgemm(ws + grp * g.og * g.k, gyg, col, m: g.k, n: g.p, k: g.og, transposeA: true)
                                g.col2im(col, channel: grp * g.cg, into: gsample)
                            }
                        }
                    }
                } }
                if needW {
                    let dw = pdw.baseAddress!
                    for wk in 0..<workers { let src = partials + wk * wCount; for j in 0..<wCount { dw[j] += src[j] } }
                }
            } } }
        } }
        var grads: [Tensor?] = [needX ? dx : nil, needW ? dwt : nil]
        if let bias { grads.append(bias.requiresGradient ? dy.sum(axes: [0, 2, 3]) : nil) }
        return grads
    }
}

