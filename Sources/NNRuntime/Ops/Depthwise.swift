import Foundation

/// Depthwise convolution kernels (one input channel per group, MobileNet's 3×3 and 5×5 layers).
///
/// There is too little work per channel for a matrix product, so these loop directly, organised
/// tap by tap: for each kernel tap the range of outputs whose input falls inside the image is
/// computed once, and the inner loop is a bounds-free multiply-add along a row that the compiler
/// vectorises. Work is split across input channels (each with its output channels), so threads
/// never write the same memory, also in the backward pass.

/// Forward: output channel `oc` reads input channel `oc / multiplier`.
func depthwiseForward(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>) {
    let mult = g.og
    Parallel.forEach(g.c) { ic in
        for i in 0..<g.n {
            let plane = x + (i * g.c + ic) * g.h * g.w
            for m in 0..<mult {
                let oc = ic * mult + m
                let kernel = w + oc * g.kh * g.kw
                let dst = y + (i * g.o + oc) * g.p
                dst.update(repeating: 0, count: g.p)
                for ki in 0..<g.kh {
                    let rows = validRange(outputs: g.ho, stride: g.sh, offset: ki * g.dh - g.pt, size: g.h)
                    for kj in 0..<g.kw {
                        let wv = kernel[ki * g.kw + kj]
                        let colOffset = kj * g.dw - g.pl
                        let cols = validRange(outputs: g.wo, stride: g.sw, offset: colOffset, size: g.w)
                        guard !cols.isEmpty else { continue }
                        for oy in rows {
                            let src = plane + (oy * g.sh + ki * g.dh - g.pt) * g.w + colOffset
                            let out = dst + oy * g.wo
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
/// (either may be nil when that gradient is not wanted). `dx` and `dw` must start zeroed.
func depthwiseBackward(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                       _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>?,
                       _ dw: UnsafeMutablePointer<Float>?) {
    let mult = g.og
    Parallel.forEach(g.c) { ic in
        for i in 0..<g.n {
            let offset = (i * g.c + ic) * g.h * g.w
            let plane = x + offset
            for m in 0..<mult {
                let oc = ic * mult + m
                let kernel = w + oc * g.kh * g.kw
                let src = dy + (i * g.o + oc) * g.p
                for ki in 0..<g.kh {
                    let rows = validRange(outputs: g.ho, stride: g.sh, offset: ki * g.dh - g.pt, size: g.h)
                    for kj in 0..<g.kw {
                        let tap = ki * g.kw + kj
                        let colOffset = kj * g.dw - g.pl
                        let cols = validRange(outputs: g.wo, stride: g.sw, offset: colOffset, size: g.w)
                        guard !cols.isEmpty else { continue }
                        let wv = kernel[tap]
                        var acc: Float = 0
                        for oy in rows {
                            let rowStart = (oy * g.sh + ki * g.dh - g.pt) * g.w + colOffset
                            let gyRow = src + oy * g.wo
                            if let dx {
                                let target = dx + offset + rowStart
                                for ox in cols { target[ox * g.sw] += wv * gyRow[ox] }
                            }
                            if dw != nil {
                                let xRow = plane + rowStart
                                for ox in cols { acc += gyRow[ox] * xRow[ox * g.sw] }
                            }
                        }
                        dw?[oc * g.kh * g.kw + tap] += acc
                    }
                }
            }
        }
    }
}
