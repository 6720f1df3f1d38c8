import Foundation
import Testing
import NNRuntime
import TestSupport
@testable import DoraCore

/// The ops under DORA's signals: the inverse real FFT against a textbook DFT and finite differences,
/// and the affine warp against torchvision's `F.affine` (Tests/Reference/make_dora_fixtures.py).
@Suite struct SignalOpsTests {
    static let affine = try! SafeTensors.read(contentsOf: Fixtures.url("dora/affine.safetensors")).tensors

    /// The slow definition: x[y, x] = s · Σ_{ky, kx} w_kx · Re(S[ky, kx] · e^{2πi(ky·y/H + kx·x/W)}).
    func naiveInverse(_ spectrum: [Float], height h: Int, columns wf: Int, width w: Int, scale: Double) -> [Float] {
        var out = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            for x in 0..<w {
                var total = 0.0
                for ky in 0..<h {
                    for kx in 0..<wf {
                        let re = Double(spectrum[(ky * wf + kx) * 2]), im = Double(spectrum[(ky * wf + kx) * 2 + 1])
                        let phase = 2 * Double.pi * (Double(ky * y) / Double(h) + Double(kx * x) / Double(w))
                        let weight: Double = kx == 0 || 2 * kx == w ? 1 : 2
                        // The imaginary part of a self-conjugate column's row transform is dropped.
                        let value = re * cos(phase) - im * sin(phase)
                        total += weight * value
                    }
                }
                out[y * w + x] = Float(total * scale)
            }
        }
        return out
    }

    @Test(arguments: [(6, 3, 6), (5, 4, 6), (4, 5, 8), (7, 2, 10)])
    func inverseFFTMatchesTheDefinition(_ c: (h: Int, wf: Int, w: Int)) {
        var gen = SeededGenerator(seed: 11)
        let values = (0..<(c.h * c.wf * 2)).map { _ in gen.nextNormal() }
        let spectrum = Tensor(shape: [c.h, c.wf, 2], scalars: values)
        let ours = irfft2(spectrum, width: c.w, normalization: .ortho).scalars
        let reference = naiveInverse(values, height: c.h, columns: c.wf, width: c.w, scale: 1 / Double(c.h * c.w).squareRoot())
        let worst = zip(ours, reference).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "irfft2 \(c): worst difference \(worst)")
    }

    @Test func inverseFFTGradientIsItsAdjoint() {
        var gen = SeededGenerator(seed: 5)
        for (h, wf, w) in [(5, 3, 6), (4, 4, 6), (6, 5, 8)] {
            let x = Tensor(shape: [2, h, wf, 2], scalars: (0..<(2 * h * wf * 2)).map { _ in gen.nextNormal() })
            let report = GradCheck.check([x]) { irfft2($0[0], width: w, normalization: .ortho) }
            #expect(report.checked > 0)
            #expect(report.maxRelativeError < 1e-2, "irfft2 \(h)×\(wf)→\(w): \(report)")
        }
    }

    @Test func frequenciesMatchNumpy() {
        // numpy.fft.fftfreq(5, d=0.5) and rfftfreq(6, d=0.5).
        #expect(fftFrequencies(5, spacing: 0.5) == [0, 0.4, 0.8, -0.8, -0.4])
        #expect(rfftFrequencies(6, spacing: 0.5).map { ($0 * 1e6).rounded() / 1e6 } == [0, 0.333333, 0.666667, 1])
    }

    @Test(arguments: 0..<5)
    func affineWarpMatchesTorchvision(_ i: Int) throws {
        let cases: [AffineParameters] = [
            .identity, AffineParameters(angle: 90),
            AffineParameters(angle: 30, translate: (2, -1), scale: 1.1, shear: (10, 0)),
            AffineParameters(angle: -15, translate: (0, 3), scale: 0.85, shear: (-12, 5)),
            AffineParameters(translate: (1, 0)),
        ]
        let x = try #require(Self.affine["input"])
        for mode in [WarpInterpolation.nearest, .bilinear] {
            let expected = try #require(Self.affine["\(i).\(mode.rawValue)"])
            let ours = affineWarp(x, transforms: [cases[i]], interpolation: mode, fill: 0.5)
            // Nearest sampling can flip at exact .5 source coordinates; allow a handful of such pixels.
            let differing = zip(ours.scalars, expected.scalars).filter { abs($0 - $1) > 1e-4 }.count
            #expect(differing <= (mode == .nearest ? 2 : 0), "case \(i) \(mode): \(differing) pixels differ")
        }
    }

    @Test func affineWarpGradients() {
        var gen = SeededGenerator(seed: 9)
        let x = Tensor(shape: [2, 2, 6, 7], scalars: (0..<168).map { _ in gen.nextNormal() })
        let transforms = [AffineParameters(angle: 17, translate: (1, 0), scale: 0.9, shear: (8, 0)),
                          AffineParameters(angle: -33, scale: 1.15)]
        for mode in [WarpInterpolation.nearest, .bilinear] {
            let report = GradCheck.check([x]) { affineWarp($0[0], transforms: transforms, interpolation: mode, fill: 0.5) }
            #expect(report.maxRelativeError < 1e-2, "\(mode): \(report)")
        }
    }

    @Test func translationShiftsWholePixels() {
        let x = Tensor(shape: [1, 1, 1, 4], scalars: [1, 2, 3, 4])
        let y = affineWarp(x, transforms: [AffineParameters(translate: (1, 0))], fill: 9)
        #expect(y.scalars == [9, 1, 2, 3])
    }

    @Test func randomCropKeepsSizeAndContent() {
        let x = Tensor(shape: [2, 1, 4, 4], scalars: (0..<32).map(Float.init))
        var gen = SeededGenerator(seed: 1)
        let y = SignalTransforms.randomCrop(x, to: (2, 3), using: &gen)
        #expect(y.shape == [2, 1, 2, 3])
        // Each crop is a contiguous window: horizontal neighbours differ by 1, vertical by 4.
        let s = y.scalars
        for b in 0..<2 { for r in 0..<2 { #expect(s[b * 6 + r * 3 + 1] - s[b * 6 + r * 3] == 1) }
            #expect(s[b * 6 + 3] - s[b * 6] == 4) }
    }

    /// A window of the warp is the same as warping everything and cropping, values and gradients.
    @Test func windowedWarpEqualsWarpThenCrop() {
        var gen = SeededGenerator(seed: 6)
        let x = Tensor.randn([2, 3, 9, 8], using: &gen)
        let transforms = [AffineParameters(angle: 17, translate: (1, -1), scale: 1.1, shear: (5, 0)),
                          AffineParameters(angle: -9, translate: (0, 2), scale: 0.9, shear: (0, -4))]
        let origins: [(y: Int, x: Int)] = [(1, 2), (3, 0)]
        for mode in [WarpInterpolation.nearest, .bilinear] {
            func cropped(_ x: Tensor) -> Tensor {
                let full = affineWarp(x, transforms: transforms, interpolation: mode, fill: 0.5)
                return concat(origins.enumerated().map { i, o in
                    full.slice(axis: 0, start: i, end: i + 1).slice(axis: 2, start: o.y, end: o.y + 5).slice(axis: 3, start: o.x, end: o.x + 6)
                }, axis: 0)
            }
            func windowed(_ x: Tensor) -> Tensor {
                affineWarp(x, transforms: transforms, interpolation: mode, fill: 0.5, window: WarpWindow(height: 5, width: 6, origins: origins))
            }
            #expect(windowed(x).shape == [2, 3, 5, 6])
            #expect(windowed(x).scalars == cropped(x).scalars, "\(mode)")
            let seed = Tensor.randn([2, 3, 5, 6], using: &gen)
            let gradient = { (f: (Tensor) -> Tensor) -> [Float] in
                let tape = GradientTape()
                let xs = tape.watch(x)
                let y = tape.record { (f(xs) * seed).sum() }
                return tape.gradient(of: y)[xs]!.scalars
            }
            #expect(gradient(windowed) == gradient(cropped), "\(mode)")
        }
    }
}
