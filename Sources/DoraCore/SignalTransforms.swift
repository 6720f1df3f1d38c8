import Foundation
import NNRuntime

/// The random robustness transforms applied to every s-AMS batch before the model, each iteration
/// (Bykov et al. 2023 follow Olah et al. 2017 "transformation robustness": a signal that survives
/// small shifts, rotations and scalings shows a feature, not adversarial noise).
///
/// The pipeline is torchvision's `Pad → [jitter ×k] → RandomAffine → RandomCrop` on the normalised
/// batch, as DORA's `generate_signals` composes it. Each image draws its own parameters (the reference
/// shares one draw per batch; independent draws decorrelate the signals of one batch).
public struct SignalTransforms: Codable, Sendable, Equatable {
    /// Constant padding on every side, in pixels, and its value (in normalised units, as the reference).
    public var pad: Int = 2
    public var padValue: Float = 0.5
    /// Jitter steps before the affine: `RandomAffine(translate: (f, f))` repeated this many times.
    public var jitterSteps: Int = 0
    public var jitterFraction: Double = 0.015
    /// `RandomAffine` ranges: rotation ±degrees, translation fraction (x, y), scale, x-shear ±degrees.
    public var degrees: Double = 15
    public var translateX: Double = 0
    public var translateY: Double = 0.1
    public var scaleMin: Double = 0.85
    public var scaleMax: Double = 1.2
    public var shear: Double = 15
    public var fill: Float = 0.5
    public var interpolation: String = WarpInterpolation.nearest.rawValue

    /// Every setting the presets change; the rest keep their defaults.
    public init(pad: Int = 2, jitterSteps: Int = 0, degrees: Double = 15, translateY: Double = 0.1,
                scale: ClosedRange<Double> = 0.85...1.2, shear: Double = 15) {
        self.pad = pad
        self.jitterSteps = jitterSteps
        self.degrees = degrees
        self.translateY = translateY
        self.scaleMin = scale.lowerBound
        self.scaleMax = scale.upperBound
        self.shear = shear
    }

    /// The final DORA default (`Pad 2 → Affine(±15°, ty 0.1, scale 0.85–1.2, shear ±15°) → Crop`).
    public static let dora = SignalTransforms()

    /// The authors' notebook settings (`Pad 2 → 10 × jitter 0.015 → Affine(±20°, scale 0.75–1.025)`).
    public static let notebook = SignalTransforms(jitterSteps: 10, degrees: 20, translateY: 0, scale: 0.75...1.025, shear: 0)

    /// No transforms at all (for tests and for deterministic renders).
    public static let none = SignalTransforms(pad: 0, degrees: 0, translateY: 0, scale: 1...1, shear: 0)

    /// Checks the ranges, naming the first that is out of bounds.
    public func validate() throws {
        if pad < 0 { throw DoraError("transforms: pad \(pad) must be ≥ 0") }
        if jitterSteps < 0 { throw DoraError("transforms: jitter steps \(jitterSteps) must be ≥ 0") }
        if scaleMin <= 0 || scaleMax < scaleMin { throw DoraError("transforms: scale range \(scaleMin)…\(scaleMax) must be positive and ordered") }
        if degrees < 0 || degrees > 180 { throw DoraError("transforms: rotation ±\(degrees)° must be within 0…180") }
        if shear < 0 || shear >= 90 { throw DoraError("transforms: shear ±\(shear)° must be within 0…<90") }
        if !(0...1).contains(translateX) || !(0...1).contains(translateY) || !(0...1).contains(jitterFraction) {
            throw DoraError("transforms: translation fractions must be within 0…1")
        }
        if WarpInterpolation(rawValue: interpolation) == nil {
            throw DoraError("transforms: interpolation '\(interpolation)' is not one of nearest, bilinear")
        }
    }

    var isIdentity: Bool {
        pad == 0 && jitterSteps == 0 && degrees == 0 && translateX == 0 && translateY == 0
            && scaleMin == 1 && scaleMax == 1 && shear == 0
    }

    /// Applies the pipeline to `x` `[N, C, H, W]` and crops to `size` at a random offset per image
    /// (padding with 0 first when the image is smaller, as `RandomCrop(pad_if_needed=True)`).
    public func apply(_ x: Tensor, cropTo size: (height: Int, width: Int), using gen: inout SeededGenerator) -> Tensor {
        var y = x
        if pad > 0 { y = y.padded([(pad, pad), (pad, pad)], value: padValue) }
        let n = y.shape[0]
        let imageSize = (height: y.shape[2], width: y.shape[3])
        let mode = WarpInterpolation(rawValue: interpolation) ?? .nearest
        for _ in 0..<jitterSteps {
            let shifts = (0..<n).map { _ in
                AffineParameters.random(translate: (jitterFraction, jitterFraction), size: imageSize, using: &gen)
            }
            y = affineWarp(y, transforms: shifts, interpolation: mode, fill: fill)
        }
        if degrees > 0 || translateX > 0 || translateY > 0 || scaleMin != 1 || scaleMax != 1 || shear > 0 {
            let draws = (0..<n).map { _ in
                AffineParameters.random(degrees: -degrees...degrees, translate: (translateX, translateY),
                                       scale: scaleMin...scaleMax, shear: -shear...shear, size: imageSize, using: &gen)
            }
            // The crop that follows is folded into the warp: only the kept window is sampled.
            if size.height <= imageSize.height && size.width <= imageSize.width {
                let origins = (0..<n).map { _ in
                    (y: Int.random(in: 0...(imageSize.height - size.height), using: &gen),
                     x: Int.random(in: 0...(imageSize.width - size.width), using: &gen))
                }
                return affineWarp(y, transforms: draws, interpolation: mode, fill: fill,
                                  window: WarpWindow(height: size.height, width: size.width, origins: origins))
            }
            y = affineWarp(y, transforms: draws, interpolation: mode, fill: fill)
        }
        return Self.randomCrop(y, to: size, using: &gen)
    }

    /// `RandomCrop(size, pad_if_needed=True)` with an independent offset per image.
    static func randomCrop(_ x: Tensor, to size: (height: Int, width: Int), using gen: inout SeededGenerator) -> Tensor {
        var y = x
        let padH = max(0, size.height - y.shape[2]), padW = max(0, size.width - y.shape[3])
        if padH > 0 || padW > 0 { y = y.padded([(padW, padW), (padH, padH)], value: 0) }
        let (h, w) = (y.shape[2], y.shape[3])
        if h == size.height && w == size.width { return y }
        let crops = (0..<y.shape[0]).map { i -> Tensor in
            let top = Int.random(in: 0...(h - size.height), using: &gen)
            let left = Int.random(in: 0...(w - size.width), using: &gen)
            return y.slice(axis: 0, start: i, end: i + 1)
                .slice(axis: 2, start: top, end: top + size.height)
                .slice(axis: 3, start: left, end: left + size.width)
        }
        return concat(crops, axis: 0)
    }
}

/// A one-line DORA error naming what was wrong and what was expected.
public struct DoraError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
