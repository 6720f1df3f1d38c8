import Foundation

/// An 8-bit image, HWC row-major, with 1 (gray), 3 (RGB) or 4 (RGBA) channels.
///
/// This is the form PNG and JPEG files decode to and the form PIL's resampling works on: models are
/// trained on PIL images resized in 8 bits, so preprocessing stays in 8 bits until the tensor
/// conversion to reproduce their inputs exactly (see ``Preprocessing``).
///
/// ```swift
/// let image = try Image.load(contentsOf: url)          // PNG or JPEG, by its first bytes
/// let x = Preprocessing.imagenet(image)                 // [3, 224, 224], as torchvision gives it
/// ```
public struct Image: Sendable, Equatable {
    public let width: Int, height: Int, channels: Int
    /// `height × width × channels` bytes, row-major, channels interleaved.
    public var pixels: [UInt8]

    /// Checks what every other function relies on: a non-empty size, 1, 3 or 4 channels, and
    /// exactly `width · height · channels` bytes.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else { throw ImageError("image size \(width)×\(height) is empty") }
        guard [1, 3, 4].contains(channels) else { throw ImageError("\(channels) channels; expected 1, 3 or 4") }
        let (area, o1) = width.multipliedReportingOverflow(by: height)
        let (count, o2) = area.multipliedReportingOverflow(by: channels)
        guard !o1, !o2, pixels.count == count else {
            throw ImageError("\(pixels.count) bytes for a \(width)×\(height)×\(channels) image")
        }
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    /// For results built here, whose size is known to be valid.
    init(unchecked width: Int, _ height: Int, _ channels: Int, _ pixels: [UInt8]) {
        assert(width > 0 && height > 0 && pixels.count == width * height * channels)
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    // MARK: - Files

    /// Decodes a PNG or JPEG file, recognised by its first bytes rather than its extension (ImageNet
    /// holds PNGs named `.JPEG`). Errors are one line naming the file and what is wrong with it.
    public static func load(contentsOf url: URL) throws -> Image {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ImageError("\(url.lastPathComponent): cannot read file (\(error.localizedDescription))")
        }
        do { return try decode(data) } catch let e as ImageError { throw ImageError("\(url.lastPathComponent): \(e.message)") }
    }

    /// Decodes PNG or JPEG bytes, recognised by their signature.
    public static func decode(_ data: Data) throws -> Image {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try decodePNG(data) }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(data) }
        if data.isEmpty { throw ImageError("empty file") }
        throw ImageError("not a PNG or JPEG file (starts with \(data.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")))")
    }

    /// Writes PNG (`.png`) or JPEG (`.jpg`, `.jpeg`, at `quality`) by the file extension, through a
    /// temporary file renamed into place, so an interrupted write never leaves a truncated image.
    public func write(to url: URL, quality: Int = 90) throws {
        let data: Data
        switch url.pathExtension.lowercased() {
        case "png": data = try pngData()
        case "jpg", "jpeg": data = try jpegData(quality: quality)
        default: throw ImageError("\(url.lastPathComponent): unknown image extension (expected .png, .jpg or .jpeg)")
        }
        do { try data.write(to: url, options: .atomic) } catch {
            throw ImageError("\(url.lastPathComponent): cannot write file (\(error.localizedDescription))")
        }
    }

    // MARK: - Tensors

    /// `[C, H, W]` floats in [0, 1]: torchvision's `ToTensor`, `p / 255` in float32, so the values
    /// are bit-identical to PyTorch's.
    public func tensor() -> Tensor {
        let (c, hw) = (channels, width * height)
        return Tensor(shape: [c, height, width]) { out in
            pixels.withUnsafeBufferPointer { px in
                for k in 0..<c {
                    let plane = out.baseAddress! + k * hw
                    for i in 0..<hw { plane[i] = Float(px[i * c + k]) / 255 }
                }
            }
        }
    }

    /// An image from a `[C, H, W]` tensor (C = 1, 3 or 4) of values in [0, 1]: clamped, scaled by
    /// 255 and rounded to nearest (NaN becomes 0). torchvision's `ToPILImage` truncates instead;
    /// rounding makes `Image(tensor: image.tensor()) == image` hold.
    public init(tensor t: Tensor) throws {
        guard t.rank == 3 else { throw ImageError("expected a [C, H, W] tensor, got shape \(t.shape)") }
        let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
        guard [1, 3, 4].contains(c) else { throw ImageError("tensor of shape \(t.shape) has \(c) channels; expected 1, 3 or 4") }
        guard h > 0, w > 0 else { throw ImageError("tensor of shape \(t.shape) is empty") }
        let hw = h * w
        var px = [UInt8](repeating: 0, count: c * hw)
        t.withUnsafeBufferPointer { values in
            for k in 0..<c {
                for i in 0..<hw {
                    let v = values[k * hw + i]
                    px[i * c + k] = v.isNaN ? 0 : UInt8((Swift.min(Swift.max(v, 0), 1) * 255).rounded())
                }
            }
        }
        self.init(unchecked: w, h, c, px)
    }

    // MARK: - Colour conversion

    /// The image with `target` channels (1, 3 or 4), as PIL's `convert("L" / "RGB" / "RGBA")`:
    ///
    /// - to gray, ITU-R 601-2 luma in PIL's fixed point, `(R·19595 + G·38470 + B·7471 + 2¹⁵) >> 16`
    ///   (PIL's `L = R·299/1000 + G·587/1000 + B·114/1000`, rounded as PIL rounds it); alpha is dropped;
    /// - gray to RGB replicates; RGBA to RGB drops alpha (no compositing), as `convert("RGB")` does;
    /// - to RGBA adds an opaque alpha.
    public func converted(toChannels target: Int) -> Image {
        precondition([1, 3, 4].contains(target), "Image.converted: \(target) channels; expected 1, 3 or 4")
        if target == channels { return self }
        let n = width * height, c = channels
        var out = [UInt8](repeating: 255, count: n * target)
        pixels.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let p = i * c
                    if c == 1 {
                        for k in 0..<Swift.min(target, 3) { o[i * target + k] = px[p] }
                    } else if target == 1 {
                        let weighted = UInt32(px[p]) * 19595 + UInt32(px[p + 1]) * 38470 + UInt32(px[p + 2]) * 7471
                        o[i] = UInt8((weighted + 0x8000) >> 16)
                    } else {
                        for k in 0..<3 { o[i * target + k] = px[p + k] }
                    }
                }
            }
        }
        return Image(unchecked: width, height, target, out)
    }
}

/// An image could not be read, written or built; one line naming the file (where there is one) and
/// what was wrong.
public struct ImageError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "image: \(message)" }
}
