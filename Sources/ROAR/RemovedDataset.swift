import Foundation
import NNRuntime

/// A dataset seen through a ``Removal``: each image with its attribution map's top (ROAR) or bottom
/// (KAR) inputs set to the per-channel mean of the training images, labels unchanged. Training
/// augmentation runs on the modified image, after the removal, as in both originals.
public struct RemovedDataset: Dataset {
    public let base: any Dataset
    /// `[N, C or 1, H, W]`: one map per image of `base`, in its order.
    public let maps: Tensor
    public let removal: Removal
    /// Per-channel means in [0, 1].
    public let mean: [Float]

    public init(base: any Dataset, maps: Tensor, removal: Removal, mean: [Float]) throws {
        guard maps.rank == 4, maps.shape[0] == base.count else {
            throw ROARError("\(maps.shape.first ?? 0) attribution maps for \(base.count) images; expected one [C, H, W] map per image")
        }
        try removal.validate()
        (self.base, self.maps, self.removal, self.mean) = (base, maps, removal, mean)
    }

    public var count: Int { base.count }
    public var classNames: [String] { base.classNames }
    public func name(at index: Int) -> String { base.name(at: index) }

    public func sample(at index: Int) throws -> (image: Image, label: Int) {
        let (image, label) = try base.sample(at: index)
        return (try removal.apply(image, map: maps[index], mean: mean), label)
    }

    /// The per-channel mean of a dataset's images in [0, 1] (the value removed inputs take).
    public static func channelMeans(of data: any Dataset) throws -> [Float] {
        guard data.count > 0 else { throw ROARError("cannot take the mean of an empty dataset") }
        var sums: [Double] = [], pixels = 0.0
        for i in 0..<data.count {
            let image = try data.sample(at: i).image
            if sums.isEmpty { sums = [Double](repeating: 0, count: image.channels) }
            guard image.channels == sums.count else {
                throw ROARError("\(data.name(at: i)) has \(image.channels) channels, the first image \(sums.count)")
            }
            for (j, byte) in image.pixels.enumerated() { sums[j % image.channels] += Double(byte) }
            pixels += Double(image.width * image.height)
        }
        return sums.map { Float($0 / pixels / 255) }
    }
}
