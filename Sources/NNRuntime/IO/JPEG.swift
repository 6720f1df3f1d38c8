import CImageCodecs
import Foundation

/// JPEG through libjpeg(-turbo).
///
/// Both directions go through small C functions (`interp_jpeg_decode`, `interp_jpeg_encode`):
/// libjpeg's `error_exit` must not return, and the only way out, `longjmp`, cannot cross Swift
/// frames. Decoding uses libjpeg's defaults, which are PIL's (islow IDCT, fancy upsampling), so with
/// the same libjpeg-turbo the pixels equal PIL's. A file that ends early is an error (PIL: "image
/// file is truncated"), not a picture padded with grey; other libjpeg warnings are tolerated, as PIL
/// tolerates them.
extension Image {
    /// Decodes JPEG bytes into gray (1-component files) or RGB (YCbCr, RGB, and CMYK/YCCK files,
    /// converted as PIL's `convert("RGB")` converts its inverted-CMYK reading). EXIF orientation is
    /// not applied, as neither PIL's `open` nor torchvision applies it.
    public static func decodeJPEG(_ data: Data) throws -> Image {
        var pixels: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
        var message = [CChar](repeating: 0, count: Int(INTERP_CODEC_MESSAGE_SIZE))
        let status = data.withUnsafeBytes { raw in
            interp_jpeg_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &pixels, &w, &h, &c, &message)
        }
        guard status == 0, let pixels else { throw ImageError("corrupt JPEG: \(String(cString: message))") }
        defer { interp_codec_free(pixels) }
        let count = Int(w) * Int(h) * Int(c)
        return try Image(width: Int(w), height: Int(h), channels: Int(c),
                         pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }

    /// Baseline JPEG bytes at `quality` (clamped to 1–100) with libjpeg's standard tables and 4:2:0
    /// chroma subsampling, as PIL's `save(quality=…)`; alpha is dropped (JPEG has none).
    public func jpegData(quality: Int = 90) throws -> Data {
        let source = channels == 4 ? converted(toChannels: 3) : self
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: Int(INTERP_CODEC_MESSAGE_SIZE))
        let status = source.pixels.withUnsafeBufferPointer {
            interp_jpeg_encode($0.baseAddress, Int32(width), Int32(height), Int32(source.channels),
                               Int32(Swift.min(Swift.max(quality, 1), 100)), &output, &size, &message)
        }
        guard status == 0, let output else { throw ImageError("JPEG encoding failed: \(String(cString: message))") }
        defer { interp_codec_free(output) }
        return Data(bytes: output, count: size)
    }
}
