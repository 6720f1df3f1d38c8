import Foundation
import Testing
import NNRuntime
import TestSupport

/// Resizing, cropping and whole pipelines against PIL and torchvision
/// (Tests/Reference/make_image_fixtures.py).
@Suite struct PreprocessingTests {
    typealias F = ImageFixtures

    /// `file` or `file:rgb` (converted to RGB first, as PIL's `convert("RGB")`).
    func source(_ spec: String) throws -> Image {
        let parts = spec.split(separator: ":")
        let image = try F.image(String(parts[0]))
        return parts.count > 1 ? image.converted(toChannels: 3) : image
    }

    /// PIL's `Image.resize` by a non-integer factor down and up, per filter, for RGB, RGBA
    /// (premultiplied alpha), gray, one axis only, mixed directions, and both pass orders. PIL's
    /// integer arithmetic is reproduced, so the difference is 0 levels, not merely within 1.
    @Test(arguments: [
        ("bilinear_down", "rgb.png", 41, 23, ResampleFilter.bilinear), ("bicubic_down", "rgb.png", 41, 23, .bicubic),
        ("bilinear_up", "rgba.png:rgb", 71, 43, .bilinear), ("bicubic_up", "rgba.png:rgb", 71, 43, .bicubic),
        ("nearest_down", "rgb.png", 30, 20, .nearest), ("nearest_up", "rgba.png:rgb", 53, 35, .nearest),
        ("rgba_bilinear_down", "rgba.png", 23, 15, .bilinear),
        ("gray_bicubic_mixed", "gray.png", 50, 80, .bicubic), ("gray_bilinear_vertical", "gray.png", 97, 40, .bilinear),
        ("bilinear_vertical_first", "rgb.png", 90, 20, .bilinear), ("bicubic_vertical_first", "rgb.png", 120, 30, .bicubic),
    ])
    func resizesLikePIL(_ label: String, _ file: String, _ w: Int, _ h: Int, _ filter: ResampleFilter) throws {
        let out = try source(file).resized(width: w, height: h, filter: filter)
        let d = try #require(F.difference(out, try F.array("resize_\(label).npy")), "\(label): \(out.width)×\(out.height)×\(out.channels)")
        #expect(d.max == 0, "\(label): max difference \(d.max) levels, mean \(d.mean)")
    }

    /// torchvision pipelines on PIL images: the 8-bit image after Resize/CenterCrop equals
    /// torchvision's exactly, and the normalised tensor agrees to float rounding.
    @Test(arguments: [
        ("imagenet", "rgb.png", Preprocessing(channels: 3, resize: .shortSide(40), filter: .bilinear, crop: .square(32),
                                              scaling: .meanStd(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]))),
        ("lite", "rgb.png", Preprocessing(channels: 3, resize: .shortSide(40), filter: .bicubic, crop: .square(32),
                                          scaling: .pixelAffine(offset: 127, divisor: 128))),
        ("mnist", "rgb.png", Preprocessing(channels: 1, resize: .exact(.square(28)), filter: .bilinear, crop: nil,
                                           scaling: .meanStd(mean: [0.1307], std: [0.3081]))),
        ("crop_pad", "rgba.png", Preprocessing(channels: 3, resize: .shortSide(24), filter: .bilinear,
                                               crop: .init(width: 30, height: 29),
                                               scaling: .meanStd(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]))),
    ])
    func pipelinesMatchTorchvision(_ label: String, _ file: String, _ pipeline: Preprocessing) throws {
        let input = try F.image(file)
        // Before normalisation: [C, H, W] bytes (ToTensor · 255).
        let expected8 = try F.array("pipeline_\(label)_u8.npy")
        let got8 = pipeline.image(input).tensor().scalars.map { ($0 * 255).rounded() }
        #expect(expected8.shape == [pipeline.channels, pipeline.outputSize!.height, pipeline.outputSize!.width])
        let d8 = F.difference(got8, expected8.scalars)
        #expect(d8.max == 0, "\(label): 8-bit max difference \(d8.max) levels, mean \(d8.mean)")
        // After: the whole pipeline, in one call and batched.
        let x = pipeline(input)
        #expect(x.shape == expected8.shape)
        if label != "crop_pad" {
            let expected = try F.array("pipeline_\(label).npy")
            let d = F.difference(x.scalars, expected.scalars)
            #expect(d.max <= 1e-5, "\(label): max difference \(d.max), mean \(d.mean)")
        }
        let batch = pipeline.batch([input, input])
        #expect(batch.shape == [2] + x.shape && Array(batch.scalars.suffix(x.count)) == x.scalars)
    }

    @Test func presetsDescribeTheZooModels() throws {
        let rgb = try F.image("rgb.png")   // 97 × 61: short side 61 -> 256, long int(256·97/61) = 407
        #expect(rgb.resized(shortSide: 256).width == 407 && rgb.resized(shortSide: 256).height == 256)
        #expect(Preprocessing.imagenet(rgb).shape == [3, 224, 224])
        #expect(Preprocessing.efficientNetLite(rgb).shape == [3, 224, 224])
        #expect(Preprocessing.mnist(rgb).shape == [1, 28, 28])
        #expect(Preprocessing.imagenet.batch([]).shape == [0, 3, 224, 224])
        // (p − 127)/128 spans [−127/128, 1].
        let black = try Image(width: 3, height: 2, channels: 3, pixels: [UInt8](repeating: 0, count: 18))
        let white = try Image(width: 3, height: 2, channels: 3, pixels: [UInt8](repeating: 255, count: 18))
        #expect(Set(Preprocessing.efficientNetLite(black).scalars) == [Float(-127) / 128])
        #expect(Set(Preprocessing.efficientNetLite(white).scalars) == [1])
        // The zoo's InputSpec runs the same pipeline.
        #expect(InputSpec.imagenet.preprocessing == .imagenet)
        #expect(InputSpec.mnist.preprocessing == .mnist)
        #expect(InputSpec.cifar10.preprocessing == .cifar10)
        let viaSpec = InputSpec.efficientNetLite(rgb), direct = Preprocessing.efficientNetLite(rgb)
        #expect(F.difference(viaSpec.scalars, direct.scalars).max < 1e-6)
        #expect(InputSpec.imagenet.batch([rgb]).scalars == Preprocessing.imagenet(rgb).scalars)
    }

    @Test func normaliseAndDenormaliseAreInverse() throws {
        let x = try F.image("rgb.png").centerCropped(16).tensor()
        for p in [Preprocessing.imagenet, .efficientNetLite] {
            let back = p.denormalize(p.normalize(x))
            #expect(F.difference(back.scalars, x.scalars).max < 1e-6)
            let batched = p.normalize(x.unsqueezed(axis: 0))
            #expect(batched.shape == [1, 3, 16, 16] && batched.scalars == p.normalize(x).scalars)
        }
        // Normalising the ToTensor values is what the pipeline does from the bytes.
        let image = try F.image("rgb.png").centerCropped(width: 20, height: 12)
        let pipeline = Preprocessing(channels: 3, resize: nil, crop: nil, scaling: Preprocessing.imagenet.scaling)
        #expect(pipeline(image).scalars == image.tensor().normalized(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]).scalars)
    }

    /// torchvision's `center_crop`: `int(round((H − h) / 2))` with half to even, and zero padding of
    /// `(h − H) // 2` before when the crop is larger.
    @Test func centerCropOffsetsAreTorchvisions() throws {
        let w = 7, h = 4
        let image = try Image(width: w, height: h, channels: 1, pixels: (0..<(w * h)).map { UInt8($0 + 1) })
        // Width 7 → 4: (7 − 4)/2 = 1.5 → 2; height 4 → 1: 1.5 → 2.
        #expect(image.centerCropped(width: 4, height: 1).pixels == [17, 18, 19, 20])
        // Width 7 → 2: 2.5 → 2.
        #expect(image.centerCropped(width: 2, height: 4).pixels == [3, 4, 10, 11, 17, 18, 24, 25])
        // Larger: 7 → 10 pads 1 before and 2 after; 4 → 5 pads 0 before, 1 after.
        let padded = image.centerCropped(width: 10, height: 5)
        #expect(padded.width == 10 && padded.height == 5)
        #expect(Array(padded.pixels[0..<10]) == [0, 1, 2, 3, 4, 5, 6, 7, 0, 0])
        #expect(Array(padded.pixels[40..<50]) == [UInt8](repeating: 0, count: 10))
        #expect(image.centerCropped(width: 7, height: 4) == image)
        #expect(image.cropped(left: -3, top: 10, width: 2, height: 2).pixels == [0, 0, 0, 0])
    }

    @Test func resizeEdgeCases() throws {
        let one = try Image(width: 1, height: 1, channels: 3, pixels: [10, 20, 30])
        for filter in [ResampleFilter.bilinear, .bicubic, .nearest] {
            #expect(one.resized(width: 5, height: 3, filter: filter).pixels == [UInt8]((0..<15).flatMap { _ in [10, 20, 30] }))
            let flat = try Image(width: 9, height: 5, channels: 1, pixels: [UInt8](repeating: 77, count: 45))
            #expect(flat.resized(width: 2, height: 7, filter: filter).pixels == [UInt8](repeating: 77, count: 14))
        }
        // Same size is the identity; short-side resizes keep the aspect ratio as torchvision truncates it.
        let rgb = try F.image("rgb.png")
        #expect(rgb.resized(width: 97, height: 61, filter: .bicubic) == rgb)
        let tall = try Image(width: 375, height: 500, channels: 1, pixels: [UInt8](repeating: 0, count: 375 * 500))
        #expect(tall.resized(shortSide: 256).width == 256 && tall.resized(shortSide: 256).height == 341)
    }
}
