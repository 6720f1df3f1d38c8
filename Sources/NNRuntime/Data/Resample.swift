/// Image resizing that reproduces PIL's `Image.resize` for 8-bit images bit for bit, because
/// torchvision's `Resize` on a PIL image is PIL's resize and model accuracy depends on matching it.
///
/// PIL resamples separably (horizontal pass, then vertical) with a filter whose support widens by
/// the downscale factor (so downscaling antialiases), normalised weights converted to fixed point
/// with 22 fractional bits, and each pass rounded and clamped back to 8 bits.

extension InputSpec.Filter {
    /// Half-width of the filter at scale 1.
    var support: Double { self == .bicubic ? 2 : 1 }

    func weight(_ x: Double) -> Double {
        let x = Swift.abs(x)
        switch self {
        case .bilinear, .nearest:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5   // PIL's (and Keys') cubic convolution parameter
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// For each output pixel: the first input pixel and the fixed-point weights of the pixels it uses.
private func coefficients(input: Int, output: Int, filter: InputSpec.Filter) -> [(start: Int, weights: [Int32])] {
    let precision = 22.0
    let scale = Double(input) / Double(output)
    let filterScale = Swift.max(scale, 1)
    let support = filter.support * filterScale
    return (0..<output).map { i in
        let center = (Double(i) + 0.5) * scale
        let lo = Swift.max(Int(center - support + 0.5), 0)
        let hi = Swift.min(Int(center + support + 0.5), input)
        var w = (lo..<hi).map { filter.weight((Double($0) - center + 0.5) / filterScale) }
        let total = w.reduce(0, +)
        if total != 0 { w = w.map { $0 / total } }
        let fixed = w.map { v -> Int32 in
            Int32(v < 0 ? (-0.5 + v * Double(1 << Int(precision))).rounded(.towardZero)
                        : (0.5 + v * Double(1 << Int(precision))).rounded(.towardZero))
        }
        return (lo, fixed)
    }
}

@inline(__always) private func clip8(_ v: Int64) -> UInt8 {
    let shifted = v >> 22
    return UInt8(Swift.min(Swift.max(shifted, 0), 255))
}

extension Image {
    /// This image resized to `width` × `height` as PIL's `resize` with the given filter.
    public func resized(width newWidth: Int, height newHeight: Int, filter: InputSpec.Filter = .bilinear) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "Image.resized: size \(newWidth)×\(newHeight) must be positive")
        if newWidth == width && newHeight == height { return self }
        if filter == .nearest { return nearest(width: newWidth, height: newHeight) }
        let c = channels
        var current = self
        if newWidth != width {
            let taps = coefficients(input: width, output: newWidth, filter: filter)
            var out = [UInt8](repeating: 0, count: newWidth * height * c)
            current.pixels.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    let row = y * width * c
                    for (x, tap) in taps.enumerated() {
                        for k in 0..<c {
                            var acc: Int64 = 1 << 21
                            for (j, wgt) in tap.weights.enumerated() { acc += Int64(src[row + (tap.start + j) * c + k]) * Int64(wgt) }
                            out[(y * newWidth + x) * c + k] = clip8(acc)
                        }
                    }
                }
            }
            current = try! Image(width: newWidth, height: height, channels: c, pixels: out)
        }
        if newHeight != height {
            let taps = coefficients(input: height, output: newHeight, filter: filter)
            var out = [UInt8](repeating: 0, count: newWidth * newHeight * c)
            let rowLength = newWidth * c
            current.pixels.withUnsafeBufferPointer { src in
                for (y, tap) in taps.enumerated() {
                    for i in 0..<rowLength {
                        var acc: Int64 = 1 << 21
                        for (j, wgt) in tap.weights.enumerated() { acc += Int64(src[(tap.start + j) * rowLength + i]) * Int64(wgt) }
                        out[y * rowLength + i] = clip8(acc)
                    }
                }
            }
            current = try! Image(width: newWidth, height: newHeight, channels: c, pixels: out)
        }
        return current
    }

    /// PIL's nearest-neighbour resize: source pixel `⌊(i + 0.5)·in/out⌋`.
    private func nearest(width newWidth: Int, height newHeight: Int) -> Image {
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        for y in 0..<newHeight {
            let sy = Swift.min(Int((Double(y) + 0.5) * Double(height) / Double(newHeight)), height - 1)
            for x in 0..<newWidth {
                let sx = Swift.min(Int((Double(x) + 0.5) * Double(width) / Double(newWidth)), width - 1)
                for k in 0..<channels { out[(y * newWidth + x) * channels + k] = pixels[(sy * width + sx) * channels + k] }
            }
        }
        return try! Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }

    /// The central `width` × `height` region with torchvision's offsets (`round((H − h)/2)`, Python's
    /// round-half-to-even); pads with zeros where the crop is larger, as torchvision does.
    public func centerCropped(width cw: Int, height ch: Int) -> Image {
        let top = Int((Double(height - ch) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - cw) / 2).rounded(.toNearestOrEven))
        var out = [UInt8](repeating: 0, count: cw * ch * channels)
        for y in 0..<ch {
            let sy = y + top
            guard sy >= 0 && sy < height else { continue }
            for x in 0..<cw {
                let sx = x + left
                guard sx >= 0 && sx < width else { continue }
                for k in 0..<channels { out[(y * cw + x) * channels + k] = pixels[(sy * width + sx) * channels + k] }
            }
        }
        return try! Image(width: cw, height: ch, channels: channels, pixels: out)
    }

    /// torchvision's `Resize(size)` for an int size: the short side becomes `size`, the long side
    /// `int(size · long / short)`.
    public func resized(shortSide size: Int, filter: InputSpec.Filter = .bilinear) -> Image {
        if width <= height {
            return resized(width: size, height: Int(Double(size) * Double(height) / Double(width)), filter: filter)
        }
        return resized(width: Int(Double(size) * Double(width) / Double(height)), height: size, filter: filter)
    }
}
