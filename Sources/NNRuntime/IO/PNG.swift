import CImageCodecs
import CPNG
import Foundation

/// PNG through libpng.
///
/// Decoding goes through a small C function (`interp_png_decode`) because libpng reports errors by
/// a callback that must not return, and the only way out, `longjmp`, cannot cross Swift frames. It
/// gives what PIL's `convert("L" / "RGB" / "RGBA")` of the opened file gives, byte for byte: every
/// bit depth and colour type, palettes (with tRNS alpha), Adam7 interlacing; gAMA/sRGB/iCCP chunks
/// are ignored as PIL ignores them; 16-bit samples keep their high byte.
///
/// Encoding uses libpng's simplified API (`png_image_write_to_memory`), which returns error codes.
extension Image {
    /// Decodes PNG bytes into gray (gray files), RGB (RGB and opaque palette files) or RGBA (files
    /// with an alpha channel, gray+alpha replicated to RGB, palettes with a tRNS chunk).
    ///
    /// One deliberate difference from PIL: PIL opens 16-bit gray as mode `I;16`, whose
    /// `convert("L")` clips every value above 255 to white; here 16-bit gray keeps its high byte,
    /// as PIL does for 16-bit RGB, RGBA and gray+alpha.
    public static func decodePNG(_ data: Data) throws -> Image {
        var pixels: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
        var message = [CChar](repeating: 0, count: Int(INTERP_CODEC_MESSAGE_SIZE))
        let status = data.withUnsafeBytes { raw in
            interp_png_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &pixels, &w, &h, &c, &message)
        }
        guard status == 0, let pixels else { throw ImageError("corrupt PNG: \(String(cString: message))") }
        defer { interp_codec_free(pixels) }
        let count = Int(w) * Int(h) * Int(c)
        return try Image(width: Int(w), height: Int(h), channels: Int(c),
                         pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }

    /// PNG bytes: 8-bit gray, RGB or RGBA, lossless.
    public func pngData() throws -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 1 ? 0 : channels == 3 ? pngColor : pngColor | pngAlpha
        let stride = Int32(width * channels)
        // First call: the size the encoded file needs; second call: the bytes.
        var size = 0
        let sized = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil) }
        guard sized != 0, size > 0 else { throw ImageError("PNG encoding failed: \(Image.pngMessage(&image))") }
        var out = Data(count: size)
        let ok = out.withUnsafeMutableBytes { dst in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        png_image_free(&image)
        guard ok != 0 else { throw ImageError("PNG encoding failed: \(Image.pngMessage(&image))") }
        return out.prefix(size)
    }

    private static func pngMessage(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

// libpng's simplified-API format flags (PNG_FORMAT_FLAG_ALPHA, PNG_FORMAT_FLAG_COLOR); the
// composite PNG_FORMAT_* macros do not import into Swift.
private let pngAlpha: UInt32 = 0x01
private let pngColor: UInt32 = 0x02
