import Foundation
import NNRuntime

/// A batch of images parameterised by decorrelated Fourier spectra, as Lucid's `fft_image` and
/// torch-dreams' `AutoImageParam`, which DORA's s-AMS use (Bykov et al. 2023, §3.1; Olah et al. 2017,
/// "Feature Visualization", §"Preconditioning and parameterization").
///
/// Gradient ascent on raw pixels finds high-frequency patterns; scaling each frequency by 1/|f|^1.5
/// and decorrelating colours makes plain gradient steps behave like steps in a whitened space, so the
/// optimiser finds natural-looking images. Every image in the batch has its own parameters, so one
/// batch optimises many neurons' signals independently.
///
/// Rendering: spectrum `[B, 3, H, W/2, 2]` ⊙ frequency scale → inverse real FFT (orthonormal, Nyquist
/// column zero) → colour decorrelation → sigmoid, giving images in [0, 1].
public final class FourierImage: Module {
    /// The trainable half spectrum `[B, 3, H, W/2, 2]`, (real, imaginary) pairs.
    public let spectrum: Parameter
    public let height: Int, width: Int
    /// `1 / max(|f|^1.5, 1/(max(H, W)·d))` per spectrum entry, `[H, W/2, 1]`.
    let frequencyScale: Tensor

    /// Lucid's colour-correlation square root, normalised by its largest column norm.
    public static let colourCorrelation: [[Float]] = {
        let raw: [[Double]] = [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]]
        let largest = (0..<3).map { j in (0..<3).map { raw[$0][j] * raw[$0][j] }.reduce(0, +).squareRoot() }.max()!
        return raw.map { $0.map { Float($0 / largest) } }
    }()

    /// ``colourCorrelation`` as a `[3, 3, 1, 1]` convolution weight.
    static let colourWeight = Tensor(shape: [3, 3, 1, 1], scalars: colourCorrelation.flatMap { $0 })

    /// A batch whose spectrum entries are drawn i.i.d. from Normal(0, `standardDeviation`²), one
    /// generator per image so an image's start does not depend on the batch it is in.
    ///
    /// - Parameters:
    ///   - width: rounded up to even, as the real FFT needs; `render()` crops back to the requested width.
    public init(count: Int, height: Int, width: Int, standardDeviation: Float = 0.01, seeds: [UInt64]) {
        precondition(count > 0 && height > 0 && width > 0, "FourierImage: sizes must be positive")
        precondition(seeds.count == count, "FourierImage: \(seeds.count) seeds for \(count) images")
        self.height = height
        self.width = width
        let evenWidth = width + width % 2
        let columns = evenWidth / 2
        let perImage = 3 * height * columns * 2
        var values = [Float](); values.reserveCapacity(count * perImage)
        for seed in seeds {
            var gen = SeededGenerator(seed: seed)
            for _ in 0..<perImage { values.append(gen.nextNormal() * standardDeviation) }
        }
        spectrum = Parameter(Tensor(shape: [count, 3, height, columns, 2], scalars: values))
        frequencyScale = Self.frequencyScale(height: height, width: evenWidth)
        super.init()
    }

    /// torch-dreams' scale with spacing d = √0.5 and decay power 0.75 on the squared radius.
    static func frequencyScale(height: Int, width: Int) -> Tensor {
        let d = 0.5.squareRoot()
        let fy = fftFrequencies(height, spacing: d), fx = rfftFrequencies(width, spacing: d).prefix(width / 2)
        let floor = 1 / (Double(max(height, width)) * d)
        var scale = [Float]()
        for y in fy { for x in fx { scale.append(Float(1 / max(pow(x * x + y * y, 0.75), floor))) } }
        return Tensor(shape: [height, width / 2, 1], scalars: scale)
    }

    /// The images in [0, 1], `[B, 3, H, W]`.
    public func render() -> Tensor {
        let evenWidth = width + width % 2
        var x = irfft2(spectrum.value * frequencyScale, width: evenWidth, normalization: .ortho)
        if evenWidth != width { x = x.slice(axis: 3, start: 0, end: width) }
        return decorrelateColours(x).sigmoid()
    }

    /// Maps each pixel's colour vector v to C·v (Lucid's `_linear_decorrelate_color`).
    func decorrelateColours(_ x: Tensor) -> Tensor {
        // A 1×1 convolution with weight C[out, in]: one matrix product per image.
        conv2d(x, weight: Self.colourWeight)
    }

    /// The rendered images as 8-bit RGB pictures (what is stored and re-read).
    public func images() throws -> [Image] {
        let x = withoutGradients { render() }
        return try (0..<x.shape[0]).map { try Image(tensor: x[$0]) }
    }
}
