import Foundation
import NNRuntime

/// Pixel-perturbation curves without retraining: how fast the model's confidence in its prediction
/// falls when the inputs an attribution map ranks highest (MoRF) or lowest (LeRF) are replaced. A good
/// map gives a steep MoRF curve and a flat LeRF curve (Samek et al., "Evaluating the Visualization of
/// What a Deep Neural Network Has Learned", IEEE TNNLS 2017, arXiv 1509.06321).
public struct PerturbationCurves: Codable, Sendable, Equatable {
    /// The x axis: percent of pixels (pixel mode) or number of regions perturbed (region mode).
    public var steps: [Double]
    /// Mean over images of the measured change after each step, most relevant first.
    public var morf: [Double]
    /// The same, least relevant first.
    public var lerf: [Double]
    /// Trapezoidal area under each curve over `steps` (pixel mode) or AOPC (region mode).
    public var morfArea: Double
    public var lerfArea: Double

    public init(steps: [Double], morf: [Double], lerf: [Double], morfArea: Double, lerfArea: Double) {
        (self.steps, self.morf, self.lerf, self.morfArea, self.lerfArea) = (steps, morf, lerf, morfArea, lerfArea)
    }
}

/// The PyTorch ROAR port's protocol (saurabheights/ROAR, `pixel_perturbation_analysis.py`): for each
/// percentage p, the ⌊p/100 · H·W⌋ pixels ranked highest (MoRF) or lowest (LeRF) by the map's
/// maximum over channels are set to 0 in normalised space (the dataset-mean colour), each p applied to
/// the original image; the score is the relative change |p₀ − pₖ| / p₀ of the softmax probability of
/// the originally predicted class, in percent, averaged over images.
public struct PixelPerturbation: Sendable {
    public var percentiles: [Double]
    public init(percentiles: [Double] = (1...10).map(Double.init)) { self.percentiles = percentiles }

    /// - Parameters: `x`: normalised inputs `[N, C, H, W]`; `maps`: `[N, C or 1, H, W]`.
    public func run(model: Module, inputs x: Tensor, maps: Tensor) throws -> PerturbationCurves {
        try checkShapes(x, maps)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let plane = h * w
        var morf = [Double](repeating: 0, count: percentiles.count), lerf = morf
        for i in 0..<n {
            let image = x[i].unsqueezed(axis: 0)
            let probabilities0 = softmax(withoutGradients { model(image) }, axis: 1)
            let predicted = probabilities0.argmax(axis: 1)[0]
            let p0 = Double(probabilities0.scalars[predicted])
            let scores = try Removal(fraction: 1).scores(maps[i], channels: c)
            // Most relevant first, and least relevant first; ties by the lower index either way.
            let most = Removal(kind: .roar, fraction: 1).selected(scores), least = Removal(kind: .kar, fraction: 1).selected(scores)
            var variants: [Tensor] = []
            for p in percentiles {
                let k = Int((p / 100 * Double(plane)).rounded(.down))
                for chosen in [most.prefix(k), least.prefix(k)] {
                    var v = image.scalars
                    for pixel in chosen { for ch in 0..<c { v[ch * plane + pixel] = 0 } }
                    variants.append(Tensor(shape: [1, c, h, w], scalars: v))
                }
            }
            let probabilities = softmax(withoutGradients { model(concat(variants, axis: 0)) }, axis: 1)
            let classes = probabilities.shape[1], s = probabilities.scalars
            for j in percentiles.indices {
                morf[j] += abs(p0 - Double(s[(2 * j) * classes + predicted])) / p0 * 100
                lerf[j] += abs(p0 - Double(s[(2 * j + 1) * classes + predicted])) / p0 * 100
            }
        }
        let meanMoRF = morf.map { $0 / Double(n) }, meanLeRF = lerf.map { $0 / Double(n) }
        return PerturbationCurves(steps: percentiles, morf: meanMoRF, lerf: meanLeRF,
                                  morfArea: trapezoid(percentiles, meanMoRF), lerfArea: trapezoid(percentiles, meanLeRF))
    }
}

/// Samek et al.'s region perturbation: non-overlapping `region`×`region` patches ranked by their summed
/// relevance are replaced one after another (cumulatively) by uniform noise in pixel space; the curve is
/// the mean drop of the class score (logit) f(x⁽⁰⁾) − f(x⁽ᵏ⁾) after k regions, and
/// AOPC = (1/(L+1)) Σₖ₌₀ᴸ of it.
public struct RegionPerturbation: Sendable {
    public var region: Int
    public var steps: Int
    public var seed: UInt64
    /// The input normalisation, to draw the noise in pixel space.
    public var mean: [Float], std: [Float]

    public init(region: Int = 9, steps: Int = 100, seed: UInt64 = 0, mean: [Float], std: [Float]) {
        (self.region, self.steps, self.seed, self.mean, self.std) = (region, steps, seed, mean, std)
    }

    public func run(model: Module, inputs x: Tensor, maps: Tensor) throws -> PerturbationCurves {
        try checkShapes(x, maps)
        guard region >= 1, steps >= 1 else { throw ROARError("region size \(region) and steps \(steps) must be at least 1") }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        guard mean.count == c, std.count == c else { throw ROARError("\(mean.count) means for \(c) input channels") }
        let (rows, cols) = ((h + region - 1) / region, (w + region - 1) / region)
        let l = Swift.min(steps, rows * cols)
        var morf = [Double](repeating: 0, count: l + 1), lerf = morf
        var gen = SeededGenerator(seed: seed)
        for i in 0..<n {
            let image = x[i].unsqueezed(axis: 0)
            let logits0 = withoutGradients { model(image) }
            let predicted = logits0.argmax(axis: 1)[0]
            let map = maps[i], mc = map.shape[0], m = map.scalars
            let relevance = (0..<(rows * cols)).map { r -> Float in
                let (ry, rx) = (r / cols, r % cols)
                var sum: Float = 0
                for ch in 0..<mc { for y in (ry * region)..<Swift.min(h, (ry + 1) * region) { for xx in (rx * region)..<Swift.min(w, (rx + 1) * region) {
                    sum += m[(ch * h + y) * w + xx]
                } } }
                return sum
            }
            let order = relevance.indices.sorted { relevance[$0] != relevance[$1] ? relevance[$0] > relevance[$1] : $0 < $1 }
            // The same noise for both orders, so the curves differ only by the order.
            let noise = (0..<(c * h * w)).map { j in (gen.nextUniform() - mean[j / (h * w)]) / std[j / (h * w)] }
            for (curve, regions) in [(0, Array(order.prefix(l))), (1, Array(order.reversed().prefix(l)))] {
                var v = image.scalars, variants: [Tensor] = []
                for r in regions {
                    let (ry, rx) = (r / cols, r % cols)
                    for ch in 0..<c { for y in (ry * region)..<Swift.min(h, (ry + 1) * region) { for xx in (rx * region)..<Swift.min(w, (rx + 1) * region) {
                        let j = (ch * h + y) * w + xx
                        v[j] = noise[j]
                    } } }
                    variants.append(Tensor(shape: [1, c, h, w], scalars: v))
                }
                let logits = withoutGradients { model(concat(variants, axis: 0)) }
                let classes = logits.shape[1], f0 = logits0.scalars[predicted]
                for k in 0...l {
                    let drop = k == 0 ? 0 : Double(f0 - logits.scalars[(k - 1) * classes + predicted])
                    if curve == 0 { morf[k] += drop } else { lerf[k] += drop }
                }
            }
        }
        let meanMoRF = morf.map { $0 / Double(n) }, meanLeRF = lerf.map { $0 / Double(n) }
        let aopc = { (curve: [Double]) in curve.reduce(0, +) / Double(l + 1) }
        return PerturbationCurves(steps: (0...l).map(Double.init), morf: meanMoRF, lerf: meanLeRF,
                                  morfArea: aopc(meanMoRF), lerfArea: aopc(meanLeRF))
    }
}

func checkShapes(_ x: Tensor, _ maps: Tensor) throws {
    guard x.rank == 4, x.shape[0] > 0 else { throw ROARError("inputs of shape \(x.shape): expected [N, C, H, W] with N ≥ 1") }
    let (m, s) = (maps.shape, x.shape)
    let channelsFit = m.count == 4 && (m[1] == 1 || m[1] == s[1])
    guard channelsFit, m[0] == s[0], m[2] == s[2], m[3] == s[3] else {
        throw ROARError("attribution maps of shape \(maps.shape) do not match inputs \(x.shape) (expected [N, C or 1, H, W])")
    }
}

/// ∫ y dx by the trapezoid rule.
func trapezoid(_ x: [Double], _ y: [Double]) -> Double {
    guard x.count > 1 else { return 0 }
    var area = 0.0
    for i in 1..<x.count {
        let width = x[i] - x[i - 1], height = (y[i] + y[i - 1]) / 2
        area += width * height
    }
    return area
}
