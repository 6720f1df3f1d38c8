import Foundation
import Testing
import NNRuntime
@testable import ROAR

/// ROAR/KAR removal on hand-made images and maps: which inputs go, what they become, and the
/// originals' edge cases (ties, k = 0, per-channel ranking).
@Suite struct RemovalTests {
    /// A 2×3 RGB image whose channel k of pixel p holds 10·p + k.
    func image() throws -> Image {
        try Image(width: 3, height: 2, channels: 3, pixels: (0..<6).flatMap { p in (0..<3).map { UInt8(10 * p + $0) } })
    }

    func pixelsChanged(_ a: Image, _ b: Image) -> [Int] {
        (0..<(a.width * a.height)).filter { p in (0..<a.channels).contains { a.pixels[p * a.channels + $0] != b.pixels[p * b.channels + $0] } }
    }

    @Test func roarReplacesTheTopPixelsWithTheMean() throws {
        let map = Tensor(shape: [1, 2, 3], scalars: [0.1, 0.9, 0.3, 0.8, 0.2, 0.5])
        let mean: [Float] = [1, 0.5, 0]
        let out = try Removal(kind: .roar, fraction: 0.5).apply(try image(), map: map, mean: mean)
        // ⌊0.5 · 6⌋ = 3 pixels: scores 0.9 (p1), 0.8 (p3), 0.5 (p5).
        #expect(pixelsChanged(try image(), out) == [1, 3, 5])
        #expect(Array(out.pixels[3..<6]) == [255, 128, 0])
        let kar = try Removal(kind: .kar, fraction: 0.5).apply(try image(), map: map, mean: mean)
        #expect(pixelsChanged(try image(), kar) == [0, 2, 4])
    }

    @Test func tiesBreakByLowerIndexAndZeroUnitsChangeNothing() throws {
        let flat = Tensor(shape: [1, 2, 3], scalars: [Float](repeating: 1, count: 6))
        #expect(Removal(kind: .roar, fraction: 0.34).selected(try Removal(fraction: 0.34).scores(flat, channels: 3)) == [0, 1])
        #expect(Removal(kind: .kar, fraction: 0.34).selected([Float](repeating: 1, count: 6)) == [0, 1])
        // ⌊0.1 · 6⌋ = 0: the image comes back untouched (the PyTorch port's [-0:] slice took all).
        let untouched = try Removal(fraction: 0.1).apply(try image(), map: flat, mean: [0, 0, 0])
        #expect(untouched == (try image()))
        let all = try Removal(fraction: 1).apply(try image(), map: flat, mean: [0, 0, 0])
        #expect(all.pixels.allSatisfy { $0 == 0 })
    }

    @Test func pixelRankingTakesTheChannelMaximumAndSquareRanksMagnitude() throws {
        // Channel 1 of pixel 4 is the largest value; channel 0 of pixel 0 the most negative.
        var v = [Float](repeating: 0, count: 18)
        v[1 * 6 + 4] = 5
        v[0 * 6 + 0] = -7
        let map = Tensor(shape: [3, 2, 3], scalars: v)
        let one = Removal(fraction: 1.0 / 6)
        #expect(one.selected(try one.scores(map, channels: 3)) == [4])
        var squared = one
        squared.square = true
        #expect(squared.selected(try squared.scores(map, channels: 3)) == [0])
    }

    @Test func pixelChannelRankingRemovesSingleChannels() throws {
        var v = [Float](repeating: 0, count: 18)
        v[2 * 6 + 1] = 3     // channel 2 of pixel 1
        v[0 * 6 + 5] = 2     // channel 0 of pixel 5
        let removal = Removal(kind: .roar, fraction: 2.0 / 18, rank: .pixelChannel)
        let out = try removal.apply(try image(), map: Tensor(shape: [3, 2, 3], scalars: v), mean: [0.5, 0.5, 0.5])
        var expected = try image().pixels
        expected[1 * 3 + 2] = 128
        expected[5 * 3 + 0] = 128
        #expect(out.pixels == expected)
        // A one-channel map counts for every channel: ties across channels break by channel-major index.
        let single = Removal(kind: .roar, fraction: 1.0 / 18, rank: .pixelChannel)
        #expect(single.selected(try single.scores(Tensor(shape: [1, 2, 3], scalars: [0, 1, 0, 0, 0, 0]), channels: 3)) == [1])
    }

    @Test func datasetAppliesOneMapPerImageAndMeansAreExact() throws {
        let images = try (0..<2).map { i in try Image(width: 2, height: 1, channels: 1, pixels: [UInt8(100 * i), 200]) }
        struct Tiny: Dataset {
            let images: [Image]
            var count: Int { images.count }
            var classNames: [String] { ["a", "b"] }
            func sample(at index: Int) throws -> (image: Image, label: Int) { (images[index], index) }
            func name(at index: Int) -> String { "\(index)" }
        }
        let data = Tiny(images: images)
        #expect(try RemovedDataset.channelMeans(of: data) == [Float((0 + 200 + 100 + 200) / 4.0 / 255)])
        let maps = Tensor(shape: [2, 1, 1, 2], scalars: [1, 0, 0, 1])
        let removed = try RemovedDataset(base: data, maps: maps, removal: Removal(fraction: 0.5), mean: [0])
        #expect(try removed.sample(at: 0).image.pixels == [0, 200])
        #expect(try removed.sample(at: 1).image.pixels == [100, 0])
        #expect(try removed.sample(at: 1).label == 1)
    }

    @Test func badInputIsOneLine() throws {
        #expect { try Removal(fraction: 1.5).validate() } throws: { "\($0)".contains("within 0…1") }
        #expect { try Removal(fraction: 0.5).apply(try image(), map: Tensor.zeros([2, 2, 3]), mean: [0, 0, 0]) } throws: {
            "\($0)".contains("expected [3, H, W] or [1, H, W]")
        }
        #expect { try Removal(fraction: 0.5).apply(try image(), map: Tensor.zeros([1, 3, 3]), mean: [0, 0, 0]) } throws: {
            "\($0)".contains("does not cover a 2×3 image")
        }
        #expect { try Removal(fraction: 0.5).scores(Tensor(shape: [1, 1, 1], scalars: [.nan]), channels: 1) } throws: { "\($0)".contains("non-finite") }
    }
}
