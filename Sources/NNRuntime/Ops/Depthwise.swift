import Foundation

/// Depthwise convolution kernels (one input channel per group, MobileNet's 3×3 and 5×5 layers).
///
/// There is too little work per channel for a matrix product, so these loop directly, organised
/// tap by tap: for each kernel tap the range of outputs whose input falls inside the image is
/// computed once, and the inner loop is a bounds-free multiply-add along a row that the compiler
/// vectorises. Work is split across input channels (each with its output channels), so threads
/// never write the same memory, also in the backward pass.

/// Forward: output channel `oc` reads input channel `oc / multiplier`. Output row by output row, so
/// the row being summed and the three input rows under it stay in L1 across the taps.
func depthwiseForward(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>) {
    let mult = g.og
    let taps = (0..<g.kw).map { kj in (offset: kj * g.dw - g.pl, cols: validRange(outputs: g.wo, stride: g.sw, offset: kj * g.dw - g.pl, size: g.w)) }
    Parallel.forEach(g.c) { ic in
        for i in 0..<g.n {
            let plane = x + (i * g.c + ic) * g.h * g.w
            for m in 0..<mult {
                let oc = ic * mult + m
                let kernel = w + oc * g.kh * g.kw
                let dst = y + (i * g.o + oc) * g.p
                for oy in 0..<g.ho {
                    let out = dst + oy * g.wo
                    out.update(repeating: 0, count: g.wo)
                    for ki in 0..<g.kh {
                        let iy = oy * g.sh + ki * g.dh - g.pt
                        guard iy >= 0 && iy < g.h else { continue }
                        for kj in 0..<g.kw where !taps[kj].cols.isEmpty {
                            let wv = kernel[ki * g.kw + kj], cols = taps[kj].cols
                            let src = plane + iy * g.w + taps[kj].offset
                            if g.sw == 1 {
                                for ox in cols { out[ox] += wv * src[ox] }
                            } else {
                                for ox in cols { out[ox] += wv * src[ox * g.sw] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Backward: scatters `dy` through each tap into `dx`, and correlates `dy` with `x` for `dw`
/// (either may be nil when that gradient is not wanted). `dx` and `dw` must start zeroed. Output
/// row by output row, like the forward pass; the weight gradient's dot products run eight lanes wide.
func depthwiseBackward(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                       _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>?,
                       _ dw: UnsafeMutablePointer<Float>?) {
    let mult = g.og
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
