import Foundation
import Testing
import NNRuntime
import TestSupport

/// Decoding and preprocessing against PIL and torchvision (Tests/Reference/make_image_fixtures.py).
@Suite struct ImageTests {
    func image(_ name: String) throws -> Image { try Image.load(contentsOf: Fixtures.url("images/" + name)) }
    func expected(_ name: String) throws -> [Float] { try NPY.read(contentsOf: Fixtures.url("images/" + name)).scalars }

    func maxDifference(_ a: [UInt8], _ b: [Float]) -> Float {
        zip(a, b).map { Swift.abs(Float($0) - $1) }.max() ?? .infinity
    }

    @Test(arguments: ["rgb.png", "gray.png", "rgba.png", "palette.png", "q90.jpg", "q95_444.jpg", "progressive.jpg", "gray.jpg"])
    func decodesLikePIL(_ name: String) throws {
        let im = try image(name)
        let want = try expected("decoded_" + name.replacingOccurrences(of: ".", with: "_") + ".npy")
        #expect(im.width == 97 && im.height == 61)
        #expect(im.pixels.count == want.count, "\(name): \(im.channels) channels")
        #expect(maxDifference(im.pixels, want) == 0, "\(name): max difference \(maxDifference(im.pixels, want))")
    }

    @Test(arguments: [("bilinear_down", 41, 23, InputSpec.Filter.bilinear), ("bicubic_down", 41, 23, .bicubic),
                      ("bilinear_up", 150, 90, .bilinear), ("bicubic_up", 150, 90, .bicubic), ("nearest_down", 30, 20, .nearest)])
    func resizesLikePIL(_ label: String, _ w: Int, _ h: Int, _ filter: InputSpec.Filter) throws {
        let out = try image("rgb.png").resized(width: w, height: h, filter: filter)
        let want = try expected("resize_\(label).npy")
        #expect(out.pixels.count == want.count)
        #expect(maxDifference(out.pixels, want) == 0, "\(label): max difference \(maxDifference(out.pixels, want))")
    }

    @Test func torchvisionPipelines() throws {
        let rgb = try image("rgb.png")
        let cases: [(InputSpec, String)] = [
            (InputSpec(channels: 3, height: 32, width: 32, resizeShortSide: 40, filter: .bilinear,
                       mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]), "pipeline_imagenet.npy"),
            (InputSpec(channels: 3, height: 32, width: 32, resizeShortSide: 40, filter: .bicubic,
                       mean: [127 / 255, 127 / 255, 127 / 255], std: [128 / 255, 128 / 255, 128 / 255]), "pipeline_lite.npy"),
            (.mnist, "pipeline_mnist.npy"),
        ]
        for (spec, file) in cases {
            let got = spec(rgb), want = try NPY.read(contentsOf: Fixtures.url("images/" + file))
            #expect(got.shape == want.shape, "\(file)")
            // Exact up to float rounding of the normalisation.
            let d = zip(got.scalars, want.scalars).map { Swift.abs($0 - $1) }.max()!
            #expect(d < 1e-5, "\(file): max difference \(d)")
        }
    }

    @Test func encodeDecodeRoundTrips() throws {
        let rgb = try image("rgb.png")
        var rgbaPixels: [UInt8] = []
        for i in 0..<(rgb.width * rgb.height) {
            rgbaPixels += rgb.pixels[i * 3..<i * 3 + 3]
            rgbaPixels.append(UInt8(i % 256))
        }
        let rgba = try Image(width: rgb.width, height: rgb.height, channels: 4, pixels: rgbaPixels)
        for source in [rgb.converted(toChannels: 1), rgb, rgba] {
            #expect(try Image.decode(source.pngData()) == source, "PNG \(source.channels) channels")
        }
        let jpeg = try Image.decode(rgb.jpegData(quality: 95))
        let err = zip(jpeg.pixels, rgb.pixels).map { Swift.abs(Int($0) - Int($1)) }.reduce(0, +) / rgb.pixels.count
        // The fixture carries σ = 12 noise, which 4:2:0 JPEG largely discards: a mean error near 8 is expected.
        #expect(jpeg.width == rgb.width && err < 12, "mean JPEG error \(err)")
        let t = rgb.tensor()
        #expect(t.shape == [3, 61, 97])
        #expect(try Image(tensor: t) == rgb)
    }

    @Test func truncatedAndForeignFilesAreErrors() throws {
        for name in ["rgb.png", "q90.jpg", "progressive.jpg"] {
            let full = try Data(contentsOf: Fixtures.url("images/" + name))
            for fraction in [0.02, 0.1, 0.3, 0.6, 0.9, 0.99] {
                let cut = full.prefix(Int(Double(full.count) * fraction))
                #expect(throws: ImageError.self, "\(name) cut to \(cut.count) bytes") { try Image.decode(cut) }
            }
        }
        #expect { try Image.decode(Data("GIF89a".utf8)) } throws: { "\($0)".contains("not a PNG or JPEG") }
        #expect(throws: ImageError.self) { try Image(width: 0, height: 3, channels: 3, pixels: []) }
    }

    @Test func grayConversionUsesPILLuma() throws {
        let px = try Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 200, 30])
        // (255·19595 + 0x8000) >> 16 = 76; (10·19595 + 200·38470 + 30·7471 + 0x8000) >> 16 = 124
        #expect(px.converted(toChannels: 1).pixels == [76, 124])
    }
}

/// Thousands of randomly mutated PNG, JPEG and .npy files: each decodes or throws, never traps.
@Suite struct CorruptionTests {
    @Test(arguments: ["gray.png", "palette.png", "q90.jpg", "progressive.jpg"])
    func imagesNeverTrap(_ name: String) throws {
        let good = try [UInt8](Data(contentsOf: Fixtures.url("images/" + name)))
        var gen = SeededGenerator(seed: 17)
        var rejected = 0
        for _ in 0..<800 {
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
