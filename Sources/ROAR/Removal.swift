import Foundation
import NNRuntime

/// Whether the most or the least important inputs are removed (Hooker et al., "A Benchmark for
/// Interpretability Methods in Deep Neural Networks", NeurIPS 2019, arXiv 1806.10758).
public enum RemovalKind: String, Codable, CaseIterable, Sendable {
    /// RemOve And Retrain: the top fraction is replaced; a good map makes accuracy fall fast.
    case roar
    /// Keep And Retrain: the bottom fraction is replaced; a good map keeps accuracy up.
    case kar
}

/// What one ranked unit is. The TensorFlow original ranks every channel of every pixel on its own, so
/// a pixel can lose one or two of its three channels (google-research issue #684); the PyTorch port
/// ranks pixels by the maximum over channels and replaces all their channels.
public enum RankUnit: String, Codable, CaseIterable, Sendable {
    case pixel
    case pixelChannel = "pixel-channel"
}

/// One ROAR/KAR modification: a fraction of an image's inputs, ranked by an attribution map, set to the
/// per-channel dataset mean. Both originals' pitfalls are avoided: ties break deterministically (lower
/// index first, instead of an unstable argsort over PNG-quantised maps), a fraction that rounds to
/// zero inputs changes nothing (the PyTorch port's `[-0:]` slice replaced everything), and the
/// fraction means the share *replaced* for both kinds (KAR at 0.3 keeps the top 70 %).
public struct Removal: Codable, Equatable, Sendable {
    public var kind: RemovalKind
    /// The share of ranked units replaced, in [0, 1].
    public var fraction: Double
    public var rank: RankUnit
    /// Rank by the squared map (the TensorFlow default): magnitude instead of signed value.
    public var square: Bool

    public init(kind: RemovalKind = .roar, fraction: Double, rank: RankUnit = .pixel, square: Bool = false) {
        self.kind = kind
        self.fraction = fraction
        self.rank = rank
        self.square = square
    }

    public func validate() throws {
        guard fraction >= 0 && fraction <= 1 else { throw ROARError("removal fraction \(fraction) must be within 0…1") }
    }

    /// The ranking score of every unit of a `[C, H, W]` or `[1, H, W]` map for an image with
    /// `channels` channels: per pixel (`H·W`, maximum over the map's channels) or per pixel and channel
    /// (`channels·H·W`, channel-major; a one-channel map counts for every channel, as the PyTorch port
    /// replicates GradCAM).
    public func scores(_ map: Tensor, channels: Int) throws -> [Float] {
        guard map.rank == 3, map.shape[0] == 1 || map.shape[0] == channels else {
            throw ROARError("attribution map of shape \(map.shape): expected [\(channels), H, W] or [1, H, W]")
        }
        let (c, plane) = (map.shape[0], map.shape[1] * map.shape[2])
        let v = square ? map.scalars.map { $0 * $0 } : map.scalars
        if let bad = v.firstIndex(where: { !$0.isFinite }) {
            throw ROARError("attribution map has a non-finite value at index \(bad)")
        }
        switch rank {
        case .pixel:
            return (0..<plane).map { p in (0..<c).reduce(-Float.infinity) { Swift.max($0, v[$1 * plane + p]) } }
        case .pixelChannel:
            return (0..<channels).flatMap { k in Array(v[(c == 1 ? 0 : k) * plane..<((c == 1 ? 0 : k) + 1) * plane]) }
        }
    }

    /// The units to replace: `⌊fraction · units⌋` of them, the highest scores for ROAR and the lowest
    /// for KAR, ties broken by the lower index.
    public func selected(_ scores: [Float]) -> [Int] {
        let k = Int((fraction * Double(scores.count)).rounded(.down))
        guard k > 0 else { return [] }
        let order = scores.indices.sorted { a, b in
            scores[a] != scores[b] ? (kind == .roar ? scores[a] > scores[b] : scores[a] < scores[b]) : a < b
        }
        return Array(order.prefix(k))
    }

    /// `image` with the selected units set to `mean` (per channel, in [0, 1]). The map must have the
    /// image's height and width.
    public func apply(_ image: Image, map: Tensor, mean: [Float]) throws -> Image {
        guard map.rank == 3, map.shape[1] == image.height, map.shape[2] == image.width else {
            throw ROARError("attribution map of shape \(map.shape) does not cover a \(image.height)×\(image.width) image")
        }
        guard mean.count == image.channels else {
            throw ROARError("\(mean.count) channel means for an image with \(image.channels) channels")
        }
        let chosen = selected(try scores(map, channels: image.channels))
        if chosen.isEmpty { return image }
        let c = image.channels, plane = image.width * image.height
        let fill = mean.map { UInt8((Swift.min(Swift.max($0, 0), 1) * 255).rounded()) }
        var pixels = image.pixels
        for unit in chosen {
            switch rank {
            case .pixel: for k in 0..<c { pixels[unit * c + k] = fill[k] }
            case .pixelChannel: let (k, p) = (unit / plane, unit % plane); pixels[p * c + k] = fill[k]
            }
        }
        return try Image(width: image.width, height: image.height, channels: c, pixels: pixels)
    }
}

/// A one-line ROAR error naming what was wrong and what was expected.
public struct ROARError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
