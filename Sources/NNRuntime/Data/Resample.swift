/// Image resizing that reproduces PIL's `Image.resize` for 8-bit images bit for bit.
///
/// torchvision's `Resize` on a PIL image *is* PIL's resize, and a model's accuracy is measured on
/// those pixels, so interp reimplements PIL's algorithm rather than any textbook one:
///
/// - separable: a horizontal and a vertical pass, the first one's result rounded and clamped to 8
///   bits, in the order recent Pillow (13.0 here) picks (see `convolved`);
/// - each output pixel `i` is centred at `(i + 0.5)·scale` in the input; when shrinking, the filter
///   is stretched by the scale factor (so downscaling averages, i.e. antialiases);
/// - the normalised weights are converted to fixed point with 22 fractional bits
///   (`32 − 8 − 2`, leaving room for 8-bit values and the negative lobes of bicubic), with PIL's
///   round-half-away-from-zero, and each sum starts at one half for rounding;
/// - RGBA is resized with premultiplied alpha (PIL converts to `RGBa` and back);
/// - nearest neighbour picks the pixel under `(i + 0.5)·scale`, accumulated as PIL accumulates it.
public typealias ResampleFilter = InputSpec.Filter

extension InputSpec.Filter {
    /// Half-width of the filter at scale 1: triangle (bilinear) 1, Keys cubic 2.
    var support: Double { self == .bicubic ? 2 : 1 }

    /// The filter's weight at distance `x` (in input pixels at scale 1).
    func weight(_ x: Double) -> Double {
        let x = Swift.abs(x)
        switch self {
        case .bilinear, .nearest:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5   // Keys' cubic convolution parameter, PIL's choice
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// PIL's fixed-point precision for 8-bit resampling.
private let precisionBits = 32 - 8 - 2

/// For every output pixel of one axis: the first input pixel, how many it uses, and their
/// fixed-point weights (`taps` per output pixel, unused ones zero).
private struct Taps {
    var first: [Int], count: [Int], weights: [Int32]
    let taps: Int

    init(input: Int, output: Int, filter: ResampleFilter) {
        let scale = Double(input) / Double(output)
        let filterScale = Swift.max(scale, 1)
        let support = filter.support * filterScale
        taps = Int(support.rounded(.up)) * 2 + 1
        first = [Int](repeating: 0, count: output)
        count = [Int](repeating: 0, count: output)
        weights = [Int32](repeating: 0, count: output * taps)
        var w = [Double](repeating: 0, count: taps)
        let inverseFilterScale = 1 / filterScale   // PIL multiplies by the inverse; dividing can round differently
        for i in 0..<output {
            let center = (Double(i) + 0.5) * scale
            // C's truncating (int) casts, as PIL computes the window.
            let lo = Swift.max(Int(center - support + 0.5), 0)
            let n = Swift.min(Int(center + support + 0.5), input) - lo
            var total = 0.0
            for j in 0..<n {
                w[j] = filter.weight((Double(j + lo) - center + 0.5) * inverseFilterScale)
                total += w[j]
            }
            first[i] = lo
            count[i] = n
            for j in 0..<n {
                let v = total != 0 ? w[j] / total : w[j]
                let fixed = v * Double(1 << precisionBits)
                weights[i * taps + j] = Int32(v < 0 ? (fixed - 0.5).rounded(.towardZero) : (fixed + 0.5).rounded(.towardZero))
            }
        }
    }
}

@inline(__always) private func clip8(_ v: Int) -> UInt8 {
    let shifted = v >> precisionBits
    return UInt8(truncatingIfNeeded: shifted < 0 ? 0 : shifted > 255 ? 255 : shifted)
}

extension Image {
    /// This image resized to `width` × `height` exactly as PIL's `resize((width, height), filter)`.
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResampleFilter = .bilinear) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "Image.resized: size \(newWidth)×\(newHeight) must be positive")
        if newWidth == width && newHeight == height { return self }
        if filter == .nearest { return nearest(width: newWidth, height: newHeight) }
        if channels == 4 { return premultiplied().convolved(width: newWidth, height: newHeight, filter: filter).unpremultiplied() }
        return convolved(width: newWidth, height: newHeight, filter: filter)
    }

    /// The two passes, in PIL's order: horizontal first, unless the height shrinks by more than
    /// twice as many pixels as the width does (Pillow then runs the vertical pass first, to make
    /// the horizontal one cheaper; the 8-bit rounding in between makes the order visible).
    private func convolved(width newWidth: Int, height newHeight: Int, filter: ResampleFilter) -> Image {
        let verticalFirst = height - newHeight > 0 && height - newHeight > (width - newWidth) * 2
        if verticalFirst {
            return resampledVertically(to: newHeight, filter: filter).resampledHorizontally(to: newWidth, filter: filter)
        }
        return resampledHorizontally(to: newWidth, filter: filter).resampledVertically(to: newHeight, filter: filter)
    }

    /// One horizontal pass: each output pixel a fixed-point weighted sum along its row.
    private func resampledHorizontally(to newWidth: Int, filter: ResampleFilter) -> Image {
        if newWidth == width { return self }
        let c = channels
        let t = Taps(input: width, output: newWidth, filter: filter)
        var out = [UInt8](repeating: 0, count: newWidth * height * c)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                t.weights.withUnsafeBufferPointer { wts in
                    for y in 0..<height {
                        let row = src.baseAddress! + y * width * c
                        let outRow = dst.baseAddress! + y * newWidth * c
                        for x in 0..<newWidth {
                            let base = row + t.first[x] * c, k = wts.baseAddress! + x * t.taps, n = t.count[x]
                            for ch in 0..<c {
                                var acc = 1 << (precisionBits - 1)
                                for j in 0..<n { acc += Int(base[j * c + ch]) * Int(k[j]) }
                                outRow[x * c + ch] = clip8(acc)
                            }
                        }
                    }
                }
            }
        }
        return Image(unchecked: newWidth, height, c, out)
    }

    /// One vertical pass: each output row a fixed-point weighted sum of input rows.
    private func resampledVertically(to newHeight: Int, filter: ResampleFilter) -> Image {
        if newHeight == height { return self }
        let t = Taps(input: height, output: newHeight, filter: filter)
        let rowLength = width * channels
        var out = [UInt8](repeating: 0, count: rowLength * newHeight)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                t.weights.withUnsafeBufferPointer { wts in
                    for y in 0..<newHeight {
                        let base = src.baseAddress! + t.first[y] * rowLength, k = wts.baseAddress! + y * t.taps, n = t.count[y]
                        let outRow = dst.baseAddress! + y * rowLength
                        for i in 0..<rowLength {
                            var acc = 1 << (precisionBits - 1)
                            for j in 0..<n { acc += Int(base[j * rowLength + i]) * Int(k[j]) }
                            outRow[i] = clip8(acc)
                        }
                    }
                }
            }
        }
        return Image(unchecked: width, newHeight, channels, out)
    }

    /// PIL's nearest neighbour: the source coordinate starts at half a step and is advanced by
    /// adding the step (not recomputed), so rounding matches PIL's at exact pixel boundaries.
    private func nearest(width newWidth: Int, height newHeight: Int) -> Image {
        func sources(_ input: Int, _ output: Int) -> [Int] {
            let step = Double(input) / Double(output)
            var position = step * 0.5
            return (0..<output).map { _ in
                defer { position += step }
                return Swift.min(Int(position), input - 1)
            }
        }
        let xs = sources(width, newWidth), ys = sources(height, newHeight), c = channels
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * c)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (y, sy) in ys.enumerated() {
                    for (x, sx) in xs.enumerated() {
                        for k in 0..<c { dst[(y * newWidth + x) * c + k] = src[(sy * width + sx) * c + k] }
                    }
                }
            }
        }
        return Image(unchecked: newWidth, newHeight, c, out)
    }

    /// RGBA to PIL's `RGBa`: each colour times alpha / 255, rounded as PIL's `MULDIV255`.
    private func premultiplied() -> Image {
        var out = pixels
        for p in stride(from: 0, to: out.count, by: 4) {
            let a = Int(out[p + 3])
            for k in 0..<3 {
                let t = Int(out[p + k]) * a + 128
                out[p + k] = UInt8(((t >> 8) + t) >> 8)
            }
        }
        return Image(unchecked: width, height, 4, out)
    }

    /// PIL's `RGBa` to RGBA: colour · 255 / alpha, truncated and clamped; alpha 0 and 255 unchanged.
    private func unpremultiplied() -> Image {
        var out = pixels
        for p in stride(from: 0, to: out.count, by: 4) {
            let a = Int(out[p + 3])
            guard a != 0 && a != 255 else { continue }
            for k in 0..<3 { out[p + k] = UInt8(Swift.min(255 * Int(out[p + k]) / a, 255)) }
        }
        return Image(unchecked: width, height, 4, out)
    }
}
