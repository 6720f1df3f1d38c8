import Foundation

/// Depthwise convolution kernels (one input channel per group, MobileNet's 3×3 and 5×5 layers).
///
/// There is too little work per channel for a matrix product, so these loop directly. The forward
/// pass (and the input gradient of a stride-1 layer, the same convolution of `dy` with each kernel
/// rotated by 180°) copies each plane once into a zero-padded scratch plane, then computes 32
/// outputs at a time (four vectors) with every tap accumulated in registers: one load per multiply-add and no
/// bounds tests. Work is split across input channels (each with its output channels), so threads
/// never write the same memory, also in the backward pass.

/// One plane of a depthwise convolution, `dst[oy][ox] (+)= Σ k[ki][kj] · src[oy·sh + ki·dh − pt][ox·sw + kj·dw − pl]`,
/// through a zero-padded copy of `src`.
struct DepthwisePlane {
    let srcH, srcW, dstH, dstW, kh, kw, sh, sw, dh, dw, pt, pl: Int
    /// Columns of the padded copy. Stride 1 needs exactly the rows' reach; other strides get sixteen
    /// columns of slack, so their sixteen-wide loads (even lanes kept) stay in the row.
    let paddedW: Int
    /// Each tap's offset in the padded plane, row-major over the kernel.
    let offsets: [Int]

    init(srcH: Int, srcW: Int, dstH: Int, dstW: Int, kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int, pt: Int, pl: Int) {
        (self.srcH, self.srcW, self.dstH, self.dstW, self.kh, self.kw) = (srcH, srcW, dstH, dstW, kh, kw)
        (self.sh, self.sw, self.dh, self.dw, self.pt, self.pl) = (sh, sw, dh, dw, pt, pl)
        let width = sw == 1 ? dstW + (kw - 1) * dw : (dstW - 1) * sw + (kw - 1) * dw + 1 + 16
        paddedW = width
        offsets = (0..<(kh * kw)).map { t in t / kw * dh * width + t % kw * dw }
    }

    /// Rows of the padded copy.
    var paddedH: Int { (dstH - 1) * sh + (kh - 1) * dh + 1 }
    /// Floats to allocate for the padded copy (with slack for the last row's overreach).
    var scratchCount: Int { paddedH * paddedW + slack }
    /// Past the plane's end, the flat stride-1 loop reads up to 31 outputs' reach.
    var slack: Int { 32 + (kw - 1) * dw }

    /// Runs `body(channels, padded, line)` over ranges of `count` channels, one per core, each with
    /// its own scratch for ``pad(_:into:)`` and ``run(_:kernel:into:accumulate:line:)``.
    func forEachChannelRange(_ count: Int, _ body: (Range<Int>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        Parallel.forEachRange(count) { channels, _ in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            let line = UnsafeMutablePointer<Float>.allocate(capacity: dstH * paddedW + 32)
            defer { padded.deallocate(); line.deallocate() }
            body(channels, padded, line)
        }
    }

    /// Copies `src` into `padded` (`paddedH × paddedW`) with zeros around it.
    func pad(_ src: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        let width = paddedW
        let count = Swift.max(0, Swift.min(srcW, width - pl))
        for r in 0..<paddedH {
            let line = padded + r * width, iy = r - pt
            guard iy >= 0 && iy < srcH && count > 0 else { line.update(repeating: 0, count: width); continue }
            line.update(repeating: 0, count: pl)
            (line + pl).update(from: src + iy * srcW, count: count)
            (line + pl + count).update(repeating: 0, count: width - pl - count)
        }
        (padded + paddedH * width).update(repeating: 0, count: slack)
    }

    /// `Σ k[t] · src[offset_t + j·step]` for eight consecutive `j` at `base`, four blocks at a time
    /// (independent accumulators, so the taps' multiply-adds overlap).
    @inline(__always)
    private func taps(_ kernel: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>, _ count: Int,
                      _ base: UnsafePointer<Float>, step: Int, blocks: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        typealias V8 = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V8 {
            step == 1 ? UnsafeRawPointer(p).loadUnaligned(as: V8.self) : UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self).evenHalf
        }
        var (a0, a1, a2, a3) = (V8(), V8(), V8(), V8())
        for t in 0..<count {
            let wv = kernel[t], p = base + offsets[t]
            a0 += wv * load(p)
            if blocks > 1 {
                a1 += wv * load(p + 8 * step); a2 += wv * load(p + 16 * step); a3 += wv * load(p + 24 * step)
            }
        }
        return (a0, a1, a2, a3)
    }

    /// Convolves the padded plane with `kernel` (`kh × kw`, row-major) into `dst`, adding to it
    /// when `accumulate`. Stride 1 runs over the padded plane as one long row (outputs past each
    /// row's end are computed and dropped), so narrow planes vectorise as well as wide ones; `line`
    /// holds those outputs (`paddedW · dstH` floats plus 32).
    func run(_ padded: UnsafePointer<Float>, kernel: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
             accumulate: Bool, line: UnsafeMutablePointer<Float>) {
        let width = paddedW, count = kh * kw
        offsets.withUnsafeBufferPointer { offsets in
        let offsets = offsets.baseAddress!
        @inline(__always) func put(_ out: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) {
            UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD8<Float>.self)
        }
        @inline(__always) func putAdding(_ out: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) {
            put(out, accumulate ? v + UnsafeRawPointer(out).loadUnaligned(as: SIMD8<Float>.self) : v)
        }
        if sh == 1 && sw == 1 {
            let total = dstH * width
            var q = 0
            while q < total {
                let (a0, a1, a2, a3) = taps(kernel, offsets, count, padded + q, step: 1, blocks: 4)
                put(line + q, a0); put(line + q + 8, a1); put(line + q + 16, a2); put(line + q + 24, a3)
                q += 32
            }
            for oy in 0..<dstH {
                let out = dst + oy * dstW, row = line + oy * width
                if accumulate { for ox in 0..<dstW { out[ox] += row[ox] } } else { out.update(from: row, count: dstW) }
            }
            return
        }
        for oy in 0..<dstH {
            let out = dst + oy * dstW, row = padded + oy * sh * width
            var ox = 0
            if sw <= 2 {
                while ox + 32 <= dstW {
                    let (a0, a1, a2, a3) = taps(kernel, offsets, count, row + ox * sw, step: sw, blocks: 4)
                    putAdding(out + ox, a0); putAdding(out + ox + 8, a1); putAdding(out + ox + 16, a2); putAdding(out + ox + 24, a3)
                    ox += 32
                }
                while ox + 8 <= dstW {
                    putAdding(out + ox, taps(kernel, offsets, count, row + ox * sw, step: sw, blocks: 1).0)
                    ox += 8
                }
            }
            for ox in ox..<dstW {
                var acc: Float = accumulate ? out[ox] : 0
                for t in 0..<count { acc += kernel[t] * row[ox * sw + offsets[t]] }
                out[ox] = acc
            }
        }
        }
    }
}

/// Forward: output channel `oc` reads input channel `oc / multiplier`.
func depthwiseForward(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>) {
    let mult = g.og
    let plane = DepthwisePlane(srcH: g.h, srcW: g.w, dstH: g.ho, dstW: g.wo, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw,
                               dh: g.dh, dw: g.dw, pt: g.pt, pl: g.pl)
    plane.forEachChannelRange(g.c) { channels, padded, line in
        for ic in channels {
            for i in 0..<g.n {
                plane.pad(x + (i * g.c + ic) * g.h * g.w, into: padded)
                for m in 0..<mult {
                    let oc = ic * mult + m
                    plane.run(padded, kernel: w + oc * g.kh * g.kw, into: y + (i * g.o + oc) * g.p, accumulate: false, line: line)
                }
            }
        }
    }
}

/// The input gradient of a stride-1 depthwise convolution as the convolution of `dy` with each
/// kernel rotated by 180° (padding `(k − 1)·d − p`), summed over a channel's multiplier; nil-free
/// only when that padding is non-negative on both leading sides.
func depthwiseInputGradientPlane(_ g: ConvGeometry) -> DepthwisePlane? {
    let top = (g.kh - 1) * g.dh - g.pt, left = (g.kw - 1) * g.dw - g.pl
    guard g.sh == 1 && g.sw == 1 && top >= 0 && left >= 0 else { return nil }
    return DepthwisePlane(srcH: g.ho, srcW: g.wo, dstH: g.h, dstW: g.w, kh: g.kh, kw: g.kw, sh: 1, sw: 1,
                          dh: g.dh, dw: g.dw, pt: top, pl: left)
}

/// Backward: scatters `dy` through each tap into `dx`, and correlates `dy` with `x` for `dw`
/// (either may be nil when that gradient is not wanted). `dx` and `dw` must start zeroed. Output
/// row by output row, like the forward pass; the weight gradient's dot products run eight lanes wide.
func depthwiseBackward(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                       _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>?,
                       _ dw: UnsafeMutablePointer<Float>?) {
    let mult = g.og
    // Stride 1: dx is the convolution of dy with the rotated kernels (rotating a row-major kh × kw
    // kernel reverses it); other strides scatter below.
    let transposed = dx == nil ? nil : depthwiseInputGradientPlane(g)
    if let transposed, let dx {
        let taps = g.kh * g.kw
        let rotatedKernels = (0..<(g.o * taps)).map { i in w[i / taps * taps + taps - 1 - i % taps] }
        rotatedKernels.withUnsafeBufferPointer { rotated in
        let rotated = rotated.baseAddress!
        transposed.forEachChannelRange(g.c) { channels, padded, line in
            for ic in channels {
                for i in 0..<g.n {
                    for m in 0..<mult {
                        let oc = ic * mult + m
                        transposed.pad(dy + (i * g.o + oc) * g.p, into: padded)
                        transposed.run(padded, kernel: rotated + oc * taps, into: dx + (i * g.c + ic) * g.h * g.w,
                                       accumulate: m > 0, line: line)
                    }
                }
            }
        }
        }
    }
    let dx = transposed == nil ? dx : nil
    guard dx != nil || dw != nil else { return }
    let taps = (0..<g.kw).map { kj in (offset: kj * g.dw - g.pl, cols: validRange(outputs: g.wo, stride: g.sw, offset: kj * g.dw - g.pl, size: g.w)) }
    Parallel.forEach(g.c) { ic in
        for i in 0..<g.n {
            let offset = (i * g.c + ic) * g.h * g.w
            let plane = x + offset
            for m in 0..<mult {
                let oc = ic * mult + m
                let kernel = w + oc * g.kh * g.kw
                let src = dy + (i * g.o + oc) * g.p
                for oy in 0..<g.ho {
                    let gyRow = src + oy * g.wo
                    for ki in 0..<g.kh {
                        let iy = oy * g.sh + ki * g.dh - g.pt
                        guard iy >= 0 && iy < g.h else { continue }
                        for kj in 0..<g.kw where !taps[kj].cols.isEmpty {
                            let tap = ki * g.kw + kj, cols = taps[kj].cols
                            let rowStart = iy * g.w + taps[kj].offset
                            if let dx {
                                let target = dx + offset + rowStart, wv = kernel[tap]
                                if g.sw == 1 {
                                    for ox in cols { target[ox] += wv * gyRow[ox] }
                                } else {
                                    for ox in cols { target[ox * g.sw] += wv * gyRow[ox] }
                                }
                            }
                            if let dw {
                                dw[oc * g.kh * g.kw + tap] += dot(gyRow, plane + rowStart, cols: cols, stride: g.sw)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `Σ a[o] · b[o·stride]` over `cols`, with eight partial sums when `stride` is 1.
@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, cols: Range<Int>, stride: Int) -> Float {
    var total: Float = 0
    var o = cols.lowerBound
    if stride == 1 {
        var acc = SIMD8<Float>()
        while o + 8 <= cols.upperBound {
            acc += UnsafeRawPointer(a + o).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + o).loadUnaligned(as: SIMD8<Float>.self)
            o += 8
        }
        total = acc.sum()
    }
    while o < cols.upperBound { total += a[o] * b[o * stride]; o += 1 }
    return total
}
