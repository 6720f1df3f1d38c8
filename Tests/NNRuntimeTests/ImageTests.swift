import Foundation
import Testing
import NNRuntime
import TestSupport

/// The image fixtures of Tests/Reference/make_image_fixtures.py and comparisons against them.
enum ImageFixtures {
    static func url(_ name: String) -> URL { Fixtures.url("images/" + name) }
    static func image(_ name: String) throws -> Image { try Image.load(contentsOf: url(name)) }
    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }
    /// A `.npy` array: `[H, W]` (gray), `[H, W, C]` (an image) or `[C, H, W]` (a tensor).
    static func array(_ name: String) throws -> Tensor { try NPY.read(contentsOf: url(name)) }

    /// Largest and mean absolute difference, in 8-bit levels, between an image and a `[H, W]` or
    /// `[H, W, C]` array; nil when the shapes differ.
    static func difference(_ image: Image, _ expected: Tensor) -> (max: Float, mean: Float)? {
        let shape = expected.shape
        guard shape.count >= 2, shape[0] == image.height, shape[1] == image.width,
              (shape.count == 2 ? 1 : shape[2]) == image.channels else { return nil }
        return difference(image.pixels.map(Float.init), expected.scalars)
    }

    static func difference(_ a: [Float], _ b: [Float]) -> (max: Float, mean: Float) {
        precondition(a.count == b.count)
        var worst: Float = 0, total: Float = 0
        for (x, y) in zip(a, b) {
            let d = Swift.abs(x - y)
            worst = Swift.max(worst, d.isNaN ? .infinity : d)
            total += d
        }
        return (worst, total / Float(Swift.max(a.count, 1)))
    }

    /// A PNG whose IHDR says `width` × `height`, with a valid CRC, so only the size is wrong.
    static func pngClaiming(width: UInt32, height: UInt32) throws -> Data {
        var png = try bytes("gray.png")
        for (i, v) in [width, height].enumerated() {
            for k in 0..<4 { png[16 + i * 4 + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(k))) }
        }
        let crc = crc32(png[12..<29])   // chunk type and data
        for k in 0..<4 { png[29 + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
        return Data(png)
    }

    static func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// Decoding against PIL, encoding round trips, conversions, and bad input.
@Suite struct ImageTests {
    typealias F = ImageFixtures

    /// Every PNG flavour, and what PIL decodes it to (see the fixture script for each file).
    @Test(arguments: [
        ("rgb.png", "decoded_rgb_png.npy"), ("gray.png", "decoded_gray_png.npy"),
        ("rgb_interlaced.png", "small_rgb.npy"), ("rgb16.png", "small_rgb.npy"), ("rgb_gamma.png", "small_rgb.npy"),
        ("rgba.png", "small_rgba.npy"), ("rgba16_interlaced.png", "small_rgba.npy"),
        ("gray_alpha.png", "decoded_gray_alpha.npy"), ("gray_alpha16.png", "decoded_gray_alpha.npy"),
        ("gray16.png", "small_blue.npy"), ("gray4_interlaced.png", "decoded_gray4_interlaced.npy"),
        ("gray_trns.png", "small_blue.npy"),
        ("palette.png", "decoded_palette_png.npy"), ("palette_trns.png", "decoded_palette_trns_png.npy"),
    ])
    func pngDecodesExactlyLikePIL(_ file: String, _ expected: String) throws {
        let image = try F.image(file)
        let d = try #require(F.difference(image, try F.array(expected)), "\(file): \(image.width)×\(image.height)×\(image.channels)")
        #expect(d.max == 0, "\(file): max difference \(d.max), mean \(d.mean)")
    }

    /// Baseline 4:2:0 and 4:4:4, progressive, gray and Adobe CMYK JPEGs: equal to PIL's decode (both
    /// libjpeg-turbo with islow IDCT and fancy upsampling).
    @Test(arguments: ["q90.jpg", "q95_444.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg"])
    func jpegDecodesLikePIL(_ file: String) throws {
        let image = try F.image(file)
        let expected = "decoded_" + file.replacingOccurrences(of: ".", with: "_") + ".npy"
        let d = try #require(F.difference(image, try F.array(expected)), "\(file): \(image.width)×\(image.height)×\(image.channels)")
        #expect(d.max == 0, "\(file): max difference \(d.max), mean \(d.mean)")
    }

    /// libjpeg with PIL's settings: encoding the same pixels at quality 90 gives the pixels of PIL's
    /// `save(quality=90)`.
    @Test func jpegEncoderMatchesPILs() throws {
        let source = try F.image("rgb.png").cropped(left: 16, top: 0, width: 65, height: 41)
        let ours = try Image.decode(source.jpegData(quality: 90))
        let d = try #require(F.difference(ours, try F.array("decoded_q90_jpg.npy")))
        #expect(d.max == 0, "max difference \(d.max), mean \(d.mean)")
    }

    @Test func pngRoundTripsAreLossless() throws {
        let rgba = try F.image("rgba.png")
        #expect(rgba.channels == 4)
        for image in [rgba.converted(toChannels: 1), rgba.converted(toChannels: 3), rgba] {
            let data = try image.pngData()
            #expect(Array(data.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
            #expect(try Image.decode(data) == image, "PNG with \(image.channels) channels")
        }
    }

    @Test func jpegRoundTripsAreClose() throws {
        // A smooth image (the fixtures carry σ = 12 noise, which JPEG discards by design).
        let (w, h) = (48, 32)
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<3 { px[(y * w + x) * 3 + k] = UInt8(30 + x * 2 + y * (k + 1) + 15 * k) }
            }
        }
        let smooth = try Image(width: w, height: h, channels: 3, pixels: px)
        for image in [smooth, smooth.converted(toChannels: 1)] {
            let back = try Image.decode(image.jpegData(quality: 95))
            #expect(back.width == w && back.height == h && back.channels == image.channels)
            let d = F.difference(back.pixels.map(Float.init), image.pixels.map(Float.init))
            #expect(d.mean < 1.5 && d.max <= 8, "\(image.channels) channels: max \(d.max), mean \(d.mean)")
        }
        // Alpha is dropped, and lower quality means smaller files.
        let rgba = smooth.converted(toChannels: 4)
        #expect(try Image.decode(rgba.jpegData()).channels == 3)
        #expect(try smooth.jpegData(quality: 20).count < smooth.jpegData(quality: 95).count)
    }

    @Test func writesAtomicallyByExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("interp-image-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try F.image("rgba.png")
        try image.write(to: dir.appendingPathComponent("a.png"))
        try image.write(to: dir.appendingPathComponent("b.JPEG"), quality: 80)
        #expect(try Image.load(contentsOf: dir.appendingPathComponent("a.png")) == image)
        #expect(try Image.load(contentsOf: dir.appendingPathComponent("b.JPEG")).channels == 3)
        #expect(throws: ImageError.self) { try image.write(to: dir.appendingPathComponent("c.gif")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.png", "b.JPEG"])
        // The format comes from the bytes, not the name.
        try FileManager.default.copyItem(at: F.url("q90.jpg"), to: dir.appendingPathComponent("really-a-jpeg.png"))
        #expect(try Image.load(contentsOf: dir.appendingPathComponent("really-a-jpeg.png")) == F.image("q90.jpg"))
    }

    @Test func tensorsAreToTensorValues() throws {
        let image = try F.image("rgba.png")
        let t = image.tensor()
        #expect(t.shape == [4, 27, 40])
        let values = t.scalars, hw = 27 * 40
        #expect(values[0] == Float(image.pixels[0]) / 255 && values[hw + 5] == Float(image.pixels[5 * 4 + 1]) / 255)
        #expect(try Image(tensor: t) == image)
        // Clamped, rounded, NaN to 0.
        let odd = try Image(tensor: Tensor(shape: [1, 1, 5], scalars: [-1, 0.5, 2, .nan, 0.1 / 255 + 3 / 255]))
        #expect(odd.pixels == [0, 128, 255, 0, 3])
        #expect(throws: ImageError.self) { try Image(tensor: Tensor.zeros([2, 4, 4])) }
        #expect(throws: ImageError.self) { try Image(tensor: Tensor.zeros([3, 4])) }
        #expect(throws: ImageError.self) { try Image(tensor: Tensor.zeros([3, 0, 4])) }
    }

    @Test func conversionsFollowPIL() throws {
        let px = try Image(width: 3, height: 1, channels: 3, pixels: [255, 0, 0, 10, 200, 30, 255, 255, 255])
        // (255·19595 + 2¹⁵) >> 16 = 76; (10·19595 + 200·38470 + 30·7471 + 2¹⁵) >> 16 = 124
        #expect(px.converted(toChannels: 1).pixels == [76, 124, 255])
        #expect(px.converted(toChannels: 1).converted(toChannels: 3).pixels == [76, 76, 76, 124, 124, 124, 255, 255, 255])
        #expect(px.converted(toChannels: 4).pixels == [255, 0, 0, 255, 10, 200, 30, 255, 255, 255, 255, 255])
        // RGBA to RGB drops alpha without compositing; to gray uses the colour only.
        let rgba = try F.image("rgba.png")
        let rgb = rgba.converted(toChannels: 3)
        let colour: [UInt8] = (0..<(40 * 27)).flatMap { (i: Int) -> ArraySlice<UInt8> in rgba.pixels[i * 4..<i * 4 + 3] }
        #expect(rgb.pixels == colour)
        #expect(rgba.converted(toChannels: 1) == rgb.converted(toChannels: 1))
        // Gray+alpha files decode to RGBA with equal colour channels, so gray comes back exactly.
        let la = try F.image("gray_alpha.png")
        let gray: [UInt8] = (0..<(40 * 27)).map { (i: Int) -> UInt8 in la.pixels[i * 4] }
        #expect(la.converted(toChannels: 1).pixels == gray)
    }

    @Test func badSizesAreErrors() throws {
        #expect(throws: ImageError.self) { try Image(width: 0, height: 3, channels: 3, pixels: []) }
        #expect(throws: ImageError.self) { try Image(width: 2, height: 2, channels: 2, pixels: [UInt8](repeating: 0, count: 8)) }
        #expect(throws: ImageError.self) { try Image(width: 2, height: 2, channels: 3, pixels: [UInt8](repeating: 0, count: 11)) }
        #expect(throws: ImageError.self) { try Image(width: Int.max / 2, height: 4, channels: 3, pixels: []) }
        // Zero-size and absurd (decompression-bomb) headers with valid checksums.
        #expect(try F.pngClaiming(width: 97, height: 61).count > 0)
        #expect(throws: ImageError.self) { try Image.decode(F.pngClaiming(width: 0, height: 61)) }
        #expect { try Image.decode(F.pngClaiming(width: 100_000, height: 100_000)) } throws: { "\($0)".contains("implausible") }
        var jpeg = try F.bytes("q90.jpg")
        let sof = try #require((0..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 5] = 0; jpeg[sof + 6] = 0   // height 0
        #expect(throws: ImageError.self) { try Image.decode(Data(jpeg)) }
    }

    @Test func foreignAndDamagedFilesAreErrors() throws {
        for (bytes, says) in [([UInt8](), "empty"), (Array("GIF89a....".utf8), "not a PNG or JPEG"),
                              (Array("BM\0\0\0\0".utf8), "not a PNG or JPEG"), ([0x89, 0x50, 0x4E, 0x47], "not a PNG or JPEG"),
                              ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 7, count: 40), "corrupt PNG"),
                              ([0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 0, count: 40), "corrupt JPEG")] {
            #expect { try Image.decode(Data(bytes)) } throws: { "\($0)".contains(says) }
        }
        // A flipped bit in a critical chunk fails its CRC.
        var png = try F.bytes("rgb.png")
        png[20] ^= 0x10
        #expect(throws: ImageError.self) { try Image.decode(Data(png)) }
        // Errors from files name the file, on one line.
        let missing = F.url("no-such-image.png")
        #expect { try Image.load(contentsOf: missing) } throws: { "\($0)".contains("no-such-image.png") }
    }

    /// Files cut short anywhere in their header or image data: an error, never a crash or a
    /// picture padded with grey.
    @Test(arguments: ["rgb.png", "rgb16.png", "rgba16_interlaced.png", "gray4_interlaced.png", "palette_trns.png",
                      "q90.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg"])
    func truncatedFilesAreErrors(_ file: String) throws {
        let full = try F.bytes(file)
        let n = full.count
        #expect(try Image.decode(Data(full)).width > 0)
        for cut in [0, 3, 8, 20, 33, n / 4, n / 2, 3 * n / 4, n - 20] {
            #expect(throws: ImageError.self, "\(file) cut to \(cut) of \(n) bytes") { try Image.decode(Data(full.prefix(cut))) }
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("interp-trunc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("cut-" + file)
        try Data(full.prefix(n / 2)).write(to: url)
        #expect { try Image.load(contentsOf: url) } throws: { error in
            let text = "\(error)"
            return text.contains("cut-" + file) && !text.contains("\n")
        }
    }
}

/// Thousands of randomly mutated PNG, JPEG and .npy files: each decodes or throws, never traps.
@Suite struct CorruptionTests {
    @Test(arguments: ["gray.png", "palette.png", "rgba16_interlaced.png", "q90.jpg", "progressive.jpg", "cmyk.jpg"])
    func imagesNeverTrap(_ name: String) throws {
        let good = try ImageFixtures.bytes(name)
        var gen = SeededGenerator(seed: 17)
        var rejected = 0
        for _ in 0..<500 {
            if (try? Image.decode(Data(Corruption.mutate(good, using: &gen)))) == nil { rejected += 1 }
        }
        #expect(rejected > 0)
    }

    @Test func npyNeverTraps() throws {
        var gen = SeededGenerator(seed: 23)
        let good = [UInt8](NPY.encode(.randn([3, 5], using: &gen)))
        var rejected = 0
        for _ in 0..<3000 {
            if (try? NPY.decode(Data(Corruption.mutate(good, using: &gen)))) == nil { rejected += 1 }
        }
        #expect(rejected > 0)
    }
}
