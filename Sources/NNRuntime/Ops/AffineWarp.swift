import Foundation

/// Affine warps of NCHW images as torchvision's `RandomAffine`/`F.affine` on tensors: the robustness
/// transforms of activation maximisation (feature visualisation must survive small rotations, scalings
/// and shears, or it finds adversarial noise instead of features).

/// One affine transform about the image centre, in torchvision's parameters.
public struct AffineParameters: Sendable, Equatable {
    /// Rotation in degrees (counter-clockwise on screen, as torchvision).
    public var angle: Double
    /// Translation in pixels (x to the right, y down).
    public var translate: (x: Double, y: Double)
    /// Isotropic scale.
    public var scale: Double
    /// Shear angles in degrees along x and y.
    public var shear: (x: Double, y: Double)

    public init(angle: Double = 0, translate: (x: Double, y: Double) = (0, 0), scale: Double = 1,
                shear: (x: Double, y: Double) = (0, 0)) {
        self.angle = angle
        self.translate = translate
        self.scale = scale
        self.shear = shear
    }

    public static let identity = AffineParameters()

    public static func == (a: AffineParameters, b: AffineParameters) -> Bool {
        a.angle == b.angle && a.translate == b.translate && a.scale == b.scale && a.shear == b.shear
    }

    /// The 2×3 matrix that maps an output pixel (centred coordinates) to its source pixel (centred),
    /// torchvision's `_get_inverse_affine_matrix` with centre 0, as `F.affine` builds it
    /// for tensors (rows: `[a, b, c; d, e, f]`; the grid is centred, so no centre shift).
    public var inverseMatrix: [Double] {
        let rot = angle * .pi / 180, sx = shear.x * .pi / 180, sy = shear.y * .pi / 180
        let a = cos(rot - sy) / cos(sy)
        let b = -cos(rot - sy) * tan(sx) / cos(sy) - sin(rot)
        let c = sin(rot - sy) / cos(sy)
        let d = -sin(rot - sy) * tan(sx) / cos(sy) + cos(rot)
        var m = [d, -b, 0, -c, a, 0].map { $0 / scale }
        m[2] += m[0] * -translate.x + m[1] * -translate.y
        m[5] += m[3] * -translate.x + m[4] * -translate.y
        return m
    }

    /// A draw of `RandomAffine(degrees, translate, scale, shear)` for an image of `size` (H, W):
    /// angle, scale and x-shear uniform in their ranges; translations `round(U(−f·W, f·W))` pixels.
    public static func random(degrees: ClosedRange<Double> = 0...0, translate: (x: Double, y: Double) = (0, 0),
                              scale: ClosedRange<Double> = 1...1, shear: ClosedRange<Double> = 0...0,
                              size: (height: Int, width: Int), using gen: inout SeededGenerator) -> AffineParameters {
        func uniform(_ r: ClosedRange<Double>) -> Double {
            r.lowerBound == r.upperBound ? r.lowerBound : Double.random(in: r, using: &gen)
        }
        let angle = uniform(degrees)
        let maxX = translate.x * Double(size.width), maxY = translate.y * Double(size.height)
        let tx = maxX > 0 ? uniform(-maxX...maxX).rounded() : 0
        let ty = maxY > 0 ? uniform(-maxY...maxY).rounded() : 0
        return AffineParameters(angle: angle, translate: (tx, ty), scale: uniform(scale), shear: (uniform(shear), 0))
    }
}

/// How a warp samples between pixels.
public enum WarpInterpolation: String, Sendable {
    /// The nearest pixel, ties to even (`grid_sample(mode="nearest")`; torchvision's default).
    case nearest
    /// Bilinear between the four neighbours; outside pixels blend towards the fill.
    case bilinear
}

/// Warps each image of `x` `[N, C, H, W]` by its transform (one shared by all, or one per image) and
/// fills uncovered pixels with `fill`, as torchvision's `F.affine(..., fill=fill)` on tensors: the
/// sampling grid is `grid_sample(align_corners=False)` of `inverseMatrix`, and a bilinear sample that
/// is covered by a fraction `m` of valid taps becomes `m·sample + (1 − m)·fill`.
///
/// With `window`, only a `height×width` window of each warped image is produced, at that image's
/// origin: the same values as warping the whole image and cropping it (`RandomCrop` after
/// `RandomAffine`), without computing or copying the pixels the crop drops.
public func affineWarp(_ x: Tensor, transforms: [AffineParameters], interpolation: WarpInterpolation = .nearest,
                       fill: Float = 0, window: WarpWindow? = nil) -> Tensor {
    precondition(x.rank == 4, "affineWarp: expected [N, C, H, W], got \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(transforms.count == 1 || transforms.count == n,
                 "affineWarp: \(transforms.count) transforms for a batch of \(n) (expected 1 or \(n))")
    let (oh, ow) = (window?.height ?? h, window?.width ?? w)
    if let window {
        precondition(window.origins.count == n && window.origins.allSatisfy { $0.y >= 0 && $0.x >= 0 && $0.y + oh <= h && $0.x + ow <= w },
                     "affineWarp: the window \(oh)×\(ow) needs one origin per image inside \(h)×\(w)")
    }
    // Per image and output pixel: up to four (source index, weight) taps and the covered fraction.
    var taps = [WarpTaps?](repeating: nil, count: n)
    taps.withUnsafeMutableBufferPointer { slots in
        let out = slots.baseAddress!
        Parallel.forEach(n) { i in
            let origin: (y: Int, x: Int) = window?.origins[i] ?? (0, 0)
            out[i] = warpTaps(transforms[transforms.count == 1 ? 0 : i], height: h, width: w, interpolation: interpolation,
                              output: (oh, ow, origin.y, origin.x))
        }
    }
    let ready = taps.map { $0! }
    let (plane, outPlane) = (h * w, oh * ow)
    let out = Tensor(shape: [n, c, oh, ow]) { dst in
        x.withUnsafeBufferPointer { src in
            let (s0, d0) = (src.baseAddress!, dst.baseAddress!)
            Parallel.forEach(n * c) { q in
                let t = ready[q / c]
                let (xs, ys) = (s0 + q * plane, d0 + q * outPlane)
                if interpolation == .nearest {
                    // One tap per pixel: a gather, or the fill where the source falls outside.
                    for p in 0..<outPlane { let j = t.index[p * 4]; ys[p] = j >= 0 ? xs[j] : fill }
                } else {
                    for p in 0..<outPlane {
                        var v: Float = 0
                        for k in 0..<4 { let j = t.index[p * 4 + k]; if j >= 0 { v += t.weight[p * 4 + k] * xs[j] } }
                        ys[p] = t.blend(v, at: p, fill: fill)
                    }
                }
            }
        }
    }
    return recordOp(.affineWarp, inputs: [x], output: out) { g in
        [Tensor(shape: x.shape) { dx in
            dx.initialize(repeating: 0)
            g.withUnsafeBufferPointer { pg in
                let (g0, d0) = (pg.baseAddress!, dx.baseAddress!)
                // Each plane scatters only into its own plane, so planes run in parallel.
                Parallel.forEach(n * c) { q in
                    let t = ready[q / c]
                    let (gs, ds) = (g0 + q * outPlane, d0 + q * plane)
                    if interpolation == .nearest {
                        for p in 0..<outPlane { let j = t.index[p * 4]; if j >= 0 { ds[j] += gs[p] } }
                    } else {
                        for p in 0..<outPlane {
                            let gp = gs[p] * t.sampleWeight(at: p)
                            for k in 0..<4 { let j = t.index[p * 4 + k]; if j >= 0 { ds[j] += t.weight[p * 4 + k] * gp } }
                        }
                    }
                }
            }
        }]
    }
}

/// The part of a warped image to produce: a `height×width` window at one origin per image.
public struct WarpWindow: Sendable {
    public var height: Int, width: Int
    public var origins: [(y: Int, x: Int)]
    public init(height: Int, width: Int, origins: [(y: Int, x: Int)]) {
        (self.height, self.width, self.origins) = (height, width, origins)
    }
}

/// The sampling taps of one warp: four source indices per output pixel (−1 = none) and weights.
struct WarpTaps {
    var index: [Int]
    var weight: [Float]
    /// The fraction of each output pixel's taps that lie inside the image.
    var covered: [Float]
    let interpolation: WarpInterpolation

    /// The weight of the sample in the output (`m` for bilinear, 1 or 0 for nearest).
    @inline(__always) func sampleWeight(at p: Int) -> Float {
        interpolation == .bilinear ? covered[p] : (covered[p] >= 0.5 ? 1 : 0)
    }

    /// torchvision's fill rule: nearest replaces uncovered pixels; bilinear blends by coverage.
    @inline(__always) func blend(_ sample: Float, at p: Int, fill: Float) -> Float {
        let m = sampleWeight(at: p)
        return interpolation == .bilinear ? sample * m + (1 - m) * fill : (m == 1 ? sample : fill)
    }
}

/// The taps of every pixel of the `output` window (size and origin in the `h×w` frame; the whole frame by default).
func warpTaps(_ t: AffineParameters, height h: Int, width w: Int, interpolation: WarpInterpolation,
              output: (height: Int, width: Int, top: Int, left: Int)? = nil) -> WarpTaps {
    let m = t.inverseMatrix
    let o = output ?? (h, w, 0, 0)
    var taps = WarpTaps(index: [Int](repeating: -1, count: o.height * o.width * 4), weight: [Float](repeating: 0, count: o.height * o.width * 4),
                        covered: [Float](repeating: 0, count: o.height * o.width), interpolation: interpolation)
    let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
    for oy in 0..<o.height {
        for ox in 0..<o.width {
            let p = oy * o.width + ox
            let xc = Double(ox + o.left) - cx, yc = Double(oy + o.top) - cy
            let sx = m[0] * xc + m[1] * yc + m[2] + cx, sy = m[3] * xc + m[4] * yc + m[5] + cy
            switch interpolation {
            case .nearest:
                let ix = Int(sx.rounded(.toNearestOrEven)), iy = Int(sy.rounded(.toNearestOrEven))
                if ix >= 0 && ix < w && iy >= 0 && iy < h {
                    taps.index[p * 4] = iy * w + ix
                    taps.weight[p * 4] = 1
                    taps.covered[p] = 1
                }
            case .bilinear:
                let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                let fx = sx - Double(x0), fy = sy - Double(y0)
                var total: Double = 0
                for k in 0..<4 {
                    let (dy, dx) = (k >> 1, k & 1)
                    let (ix, iy) = (x0 + dx, y0 + dy)
                    guard ix >= 0 && ix < w && iy >= 0 && iy < h else { continue }
                    let weight = (dx == 1 ? fx : 1 - fx) * (dy == 1 ? fy : 1 - fy)
                    taps.index[p * 4 + k] = iy * w + ix
                    taps.weight[p * 4 + k] = Float(weight)
                    total += weight
                }
                taps.covered[p] = Float(total)
            }
        }
    }
    return taps
}
