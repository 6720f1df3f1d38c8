import CImageCodecs
import CPNG
import Foundation

/// An 8-bit image, HWC row-major, with 1 (gray), 3 (RGB) or 4 (RGBA) channels: what PNG and JPEG
/// files hold and what PIL-style resizing works on, before conversion to a float tensor.
public struct Image: Sendable, Equatable {
    public let width: Int, height: Int, channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else { throw ImageError("image size \(width)×\(height) is empty") }
        guard [1, 3, 4].contains(channels) else { throw ImageError("\(channels) channels; expected 1, 3 or 4") }
        guard pixels.count == width * height * channels else {
            throw ImageError("\(pixels.count) bytes for a \(width)×\(height)×\(channels) image")
        }
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    /// Decodes a PNG or JPEG file, recognised by its first bytes rather than its extension.
    public static func load(contentsOf url: URL) throws -> Image {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ImageError("\(url.lastPathComponent): cannot read file (\(error.localizedDescription))")
        }
        do { return try decode(data) } catch let e as ImageError { throw ImageError("\(url.lastPathComponent): \(e.message)") }
    }

    public static func decode(_ data: Data) throws -> Image {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(data) }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(data) }
        throw ImageError("not a PNG or JPEG file")
    }

    // MARK: - Tensors

    /// `[C, H, W]` floats in [0, 1] (torchvision's `ToTensor`).
    public func tensor() -> Tensor {
        let (c, hw) = (channels, width * height)
        return Tensor(shape: [c, height, width]) { out in
            for i in 0..<hw { for k in 0..<c { out[k * hw + i] = Float(pixels[i * c + k]) / 255 } }
        }
    }

    /// An image from a `[C, H, W]` tensor in [0, 1], clamped and rounded.
    public init(tensor t: Tensor) throws {
        guard t.rank == 3 else { throw ImageError("expected a [C, H, W] tensor, got \(t.shape)") }
        let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
        let values = t.scalars
        var px = [UInt8](repeating: 0, count: c * h * w)
        for i in 0..<(h * w) {
            for k in 0..<c { px[i * c + k] = UInt8((Swift.min(Swift.max(values[k * h * w + i], 0), 1) * 255).rounded()) }
        }
        try self.init(width: w, height: h, channels: c, pixels: px)
    }

    /// The image with 1 or 3 channels, converted as PIL's `convert("L")` (ITU-R 601-2 luma in
    /// PIL's fixed-point arithmetic) and `convert("RGB")` (gray replicated, alpha dropped).
    public func converted(toChannels target: Int) -> Image {
        if target == channels { return self }
        let n = width * height
        var out = [UInt8](repeating: 0, count: n * target)
        for i in 0..<n {
            let p = i * channels
            if target == 1 {
                let (r, g, b) = channels == 1 ? (pixels[p], pixels[p], pixels[p]) : (pixels[p], pixels[p + 1], pixels[p + 2])
                // PIL: L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16
                let weighted: UInt32 = UInt32(r) * 19595 + UInt32(g) * 38470 + UInt32(b) * 7471
                out[i] = UInt8((weighted + 0x8000) >> 16)
            } else {
                for k in 0..<target { out[i * target + k] = channels == 1 ? pixels[p] : (k < 3 ? pixels[p + k] : 255) }
            }
        }
        return try! Image(width: width, height: height, channels: target, pixels: out)
    }

    // MARK: - Codecs

    private static func decodePNG(_ data: Data) throws -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        defer { png_image_free(&image) }
        guard begun != 0 else { throw ImageError("corrupt PNG: \(pngMessage(&image))") }
        let hasColor = image.format & pngColor != 0
        let hasAlpha = image.format & pngAlpha != 0
        // Read gray+alpha as two channels and drop alpha afterwards, as PIL's convert("L") does
        // (libpng would otherwise composite onto a background).
        let stored = hasColor ? (hasAlpha ? 4 : 3) : (hasAlpha ? 2 : 1)
        image.format = (hasColor ? pngColor : 0) | (hasAlpha ? pngAlpha : 0)
        let (w, h) = (Int(image.width), Int(image.height))
        guard w > 0, h > 0, w * h <= 1 << 30 else { throw ImageError("implausible PNG size \(w)×\(h)") }
        var pixels = [UInt8](repeating: 0, count: w * h * stored)
        let ok = pixels.withUnsafeMutableBytes { buf in
            png_image_finish_read(&image, nil, buf.baseAddress, Int32(w * stored), nil)
        }
        guard ok != 0 else { throw ImageError("corrupt PNG: \(pngMessage(&image))") }
        var channels = stored
        if stored == 2 {
            pixels = stride(from: 0, to: pixels.count, by: 2).map { pixels[$0] }
            channels = 1
        }
        return try Image(width: w, height: h, channels: channels, pixels: pixels)
    }

    private static func pngMessage(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func decodeJPEG(_ data: Data) throws -> Image {
        var pixels: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
        var message = [CChar](repeating: 0, count: Int(INTERP_CODEC_MESSAGE_SIZE))
        let status = data.withUnsafeBytes { raw in
            interp_jpeg_decode(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count, &pixels, &w, &h, &c, &message)
        }
        guard status == 0, let pixels else { throw ImageError("corrupt JPEG: \(String(cString: message))") }
        defer { interp_codec_free(pixels) }
        let count = Int(w) * Int(h) * Int(c)
        return try Image(width: Int(w), height: Int(h), channels: Int(c), pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }

    /// PNG bytes (8-bit gray, RGB or RGBA).
    public func pngData() throws -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 1 ? 0 : channels == 3 ? pngColor : pngColor | pngAlpha
        var size = 0
        guard png_image_write_to_memory(&image, nil, &size, 0, pixels, Int32(width * channels), nil) != 0 else {
            throw ImageError("PNG encoding failed: \(Image.pngMessage(&image))")
        }
        var out = Data(count: size)
        let ok = out.withUnsafeMutableBytes { png_image_write_to_memory(&image, $0.baseAddress, &size, 0, pixels, Int32(width * channels), nil) }
        guard ok != 0 else { throw ImageError("PNG encoding failed: \(Image.pngMessage(&image))") }
        return out.prefix(size)
    }

    /// JPEG bytes at `quality` (1–100); alpha is dropped.
    public func jpegData(quality: Int = 90) throws -> Data {
        let source = channels == 4 ? converted(toChannels: 3) : self
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: Int(INTERP_CODEC_MESSAGE_SIZE))
        let status = interp_jpeg_encode(source.pixels, Int32(width), Int32(height), Int32(source.channels),
                                        Int32(Swift.min(Swift.max(quality, 1), 100)), &output, &size, &message)
        guard status == 0, let output else { throw ImageError("JPEG encoding failed: \(String(cString: message))") }
        defer { interp_codec_free(output) }
        return Data(bytes: output, count: size)
    }

    /// Writes PNG or JPEG by the file extension, atomically.
    public func write(to url: URL, quality: Int = 90) throws {
        let ext = url.pathExtension.lowercased()
        let data = ext == "jpg" || ext == "jpeg" ? try jpegData(quality: quality) : try pngData()
        try data.write(to: url, options: .atomic)
    }
}

// libpng's simplified-API format flags (PNG_FORMAT_FLAG_ALPHA, PNG_FORMAT_FLAG_COLOR); the
// composite PNG_FORMAT_* macros do not import into Swift.
private let pngAlpha: UInt32 = 0x01
private let pngColor: UInt32 = 0x02

/// An image could not be read or written; one line naming the file and what was wrong.
public struct ImageError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "image: \(message)" }
}
