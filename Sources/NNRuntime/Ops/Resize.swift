/// Bilinear resizing of NCHW tensors as `torch.nn.functional.interpolate(mode="bilinear")` without
/// antialiasing: GradCAM upsampling and the image transforms of DORA's signal optimisation.

/// For each output index: the two source indices and the weight of the second (PyTorch's
/// `area_pixel_compute_source_index`: half-pixel centres clamped at 0, or corner alignment).
private func linearTaps(input: Int, output: Int, alignCorners: Bool) -> [(Int, Int, Float)] {
    let scale: Float = alignCorners ? (output > 1 ? Float(input - 1) / Float(output - 1) : 0)
                                    : Float(input) / Float(output)
    return (0..<output).map { i in
        let src = alignCorners ? scale * Float(i) : Swift.max(scale * (Float(i) + 0.5) - 0.5, 0)
        let i0 = Swift.min(Int(src), input - 1)
        let i1 = Swift.min(i0 + 1, input - 1)
        return (i0, i1, src - Float(i0))
    }
}

/// Resizes the spatial axes of `x` `[N, C, H, W]` to `size` by bilinear interpolation.
public func resizeBilinear(_ x: Tensor, size: (Int, Int), alignCorners: Bool = false) -> Tensor {
    precondition(x.rank == 4, "resizeBilinear: expected [N, C, H, W], got \(x.shape)")
    precondition(size.0 > 0 && size.1 > 0, "resizeBilinear: size \(size) must be positive")
    let (h, w) = (x.shape[2], x.shape[3])
    precondition(h > 0 && w > 0, "resizeBilinear: input \(x.shape) is empty")
    let planeCount = x.shape[0] * x.shape[1]
    let ys = linearTaps(input: h, output: size.0, alignCorners: alignCorners)
    let xs = linearTaps(input: w, output: size.1, alignCorners: alignCorners)
    let out = Tensor(shape: [x.shape[0], x.shape[1], size.0, size.1]) { dst in
        x.withUnsafeBufferPointer { px in
            for pl in 0..<planeCount {
                let plane = px.baseAddress! + pl * h * w
                let o = dst.baseAddress! + pl * size.0 * size.1
                for (oy, (y0, y1, ly)) in ys.enumerated() {
                    for (ox, (x0, x1, lx)) in xs.enumerated() {
                        let top = plane[y0 * w + x0] * (1 - lx) + plane[y0 * w + x1] * lx
                        let bottom = plane[y1 * w + x0] * (1 - lx) + plane[y1 * w + x1] * lx
                        o[oy * size.1 + ox] = top * (1 - ly) + bottom * ly
                    }
                }
            }
        }
    }
    return recordOp(.resizeBilinear, inputs: [x], output: out) { g in
        [Tensor(shape: x.shape) { dx in
            dx.initialize(repeating: 0)
            g.withUnsafeBufferPointer { pg in
                for pl in 0..<planeCount {
                    let plane = dx.baseAddress! + pl * h * w
                    let src = pg.baseAddress! + pl * size.0 * size.1
                    for (oy, (y0, y1, ly)) in ys.enumerated() {
                        for (ox, (x0, x1, lx)) in xs.enumerated() {
                            let v = src[oy * size.1 + ox]
                            plane[y0 * w + x0] += v * (1 - ly) * (1 - lx)
                            plane[y0 * w + x1] += v * (1 - ly) * lx
                            plane[y1 * w + x0] += v * ly * (1 - lx)
                            plane[y1 * w + x1] += v * ly * lx
                        }
                    }
                }
            }
        }]
    }
}
