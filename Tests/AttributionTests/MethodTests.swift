import Foundation
import Testing
import NNRuntime
@testable import Attribution

/// A small smooth classifier with seeded weights (no asset needed): conv → tanh → linear.
func smoothNet(seed: UInt64 = 3) -> Module {
    let net = Sequential(Conv2d(1, 4, kernelSize: 3, padding: .symmetric(1, 1), seed: seed), Tanh(), Flatten(),
                         Linear(4 * 6 * 6, 5, seed: seed &+ 1))
    net.eval()
    return net
}

struct MethodNameTests {
    @Test func canonicalNamesAndAliasesResolve() {
        for m in AttributionMethod.allCases { #expect(AttributionMethod(name: m.rawValue) == m) }
        #expect(AttributionMethod(name: "ig") == .integratedGradients)
        #expect(AttributionMethod(name: "sg") == .smoothGrad)
        #expect(AttributionMethod(name: "sg2") == .smoothGradSquared)
        #expect(AttributionMethod(name: "smoothgrad_sq") == .smoothGradSquared)
        #expect(AttributionMethod(name: "Integrated_Gradients") == .integratedGradients)
        #expect(AttributionMethod(name: "lrp") == nil)
    }

    @Test func optionsRoundTripThroughJSON() throws {
        var o = AttributionOptions()
        o.steps = 7
        o.baseline = .tensor(Tensor(shape: [1, 1, 1, 2], scalars: [0.5, -1]))
        o.base = .integratedGradients
        let back = try JSONDecoder().decode(AttributionOptions.self, from: JSONEncoder().encode(o))
        #expect(back.steps == 7 && back.base == .integratedGradients)
        guard case .tensor(let t) = back.baseline else { Issue.record("baseline lost"); return }
        #expect(t.shape == [1, 1, 1, 2] && t.scalars == [0.5, -1])
    }

    @Test func invalidSettingsAreOneLineErrors() {
        var o = AttributionOptions()
        o.base = .random
        #expect { try Attributor(model: smoothNet(), method: .smoothGrad, options: o) } throws: {
            "\($0)".contains("base 'random' cannot be wrapped") && !"\($0)".contains("\n")
        }
        o = AttributionOptions()
        o.integration = .riemannTrapezoid
        o.steps = 1
        #expect { try Attributor(model: smoothNet(), method: .integratedGradients, options: o) } throws: { "\($0)".contains("at least 2 steps") }
        o = AttributionOptions()
        o.baseline = .black
        #expect { try Attributor(model: smoothNet(), method: .integratedGradients, options: o) } throws: { "\($0)".contains("input normalisation") }
        let a = try! Attributor(model: smoothNet(), method: .saliency)
        #expect { try a.attribute(.zeros([2, 1, 6, 6]), targets: [9, 0]) } throws: { "\($0)".contains("outside the model's 5 classes") }
        #expect { try a.attribute(.zeros([2, 1, 6, 6]), targets: [1, 2, 3]) } throws: { "\($0)".contains("3 targets for a batch of 2") }
        #expect { try a.attribute(.zeros([6, 6])) } throws: { "\($0)".contains("[N, C, H, W]") }
        o = AttributionOptions()
        o.layer = "nope"
        #expect { try Attributor(model: smoothNet(), method: .gradCAM, options: o).attribute(.zeros([1, 1, 6, 6])) } throws: {
            "\($0)".hasPrefix("gradcam: unknown layer 'nope'")
        }
    }
}

struct IntegratedGradientsTests {
    /// numpy's `leggauss(3)`: nodes ±√(3/5) and 0, weights 5/9, 8/9, 5/9; on [0, 1] halved.
    @Test func gaussLegendreMatchesTheClosedForm() {
        let (a, w) = Attributor.quadrature(.gaussLegendre, steps: 3)
        let r = (3.0 / 5).squareRoot()
        for (got, want) in zip(a, [0.5 * (1 - r), 0.5, 0.5 * (1 + r)]) { #expect(Swift.abs(got - want) < 1e-14) }
        for (got, want) in zip(w, [5.0 / 18, 8.0 / 18, 5.0 / 18]) { #expect(Swift.abs(got - want) < 1e-14) }
        let (_, w50) = Attributor.quadrature(.gaussLegendre, steps: 50)
        #expect(Swift.abs(w50.reduce(0, +) - 1) < 1e-13)
        // Exact for polynomials of degree < 2m: ∫₀¹ α⁹ dα = 1/10 with m = 5.
        let (a5, w5) = Attributor.quadrature(.gaussLegendre, steps: 5)
        let integral: Double = zip(a5, w5).map { (alpha: Double, weight: Double) -> Double in pow(alpha, 9) * weight }.reduce(0, +)
        #expect(Swift.abs(integral - 0.1) < 1e-14)
    }

    @Test func trapezoidFollowsCaptum() {
        let (a, w) = Attributor.quadrature(.riemannTrapezoid, steps: 4)
        let third: Double = 1.0 / 3
        #expect(a == [0, third, 2 * third, 1])
        #expect(w == [0.125, 0.25, 0.25, 0.125])
    }

    /// Completeness (Sundararajan et al., Prop. 1): Σ IG = f(x) − f(x₀) for the explained logit.
    @Test(arguments: [Integration.gaussLegendre, .riemannTrapezoid])
    func attributionsSumToTheLogitDifference(_ integration: Integration) throws {
        let net = smoothNet()
        var gen = SeededGenerator(seed: 9)
        let x = Tensor.randn([3, 1, 6, 6], using: &gen)
        let baseline = Tensor.randn([1, 1, 6, 6], std: 0.3, using: &gen)
        var o = AttributionOptions()
        o.integration = integration
        o.steps = integration == .gaussLegendre ? 32 : 400
        o.baseline = .tensor(baseline)
        o.internalBatchSize = 7          // chunks that split steps and images unevenly
        let (maps, targets) = try Attributor(model: net, method: .integratedGradients, options: o).attribute(x)
        let fx = withoutGradients { net(x) }, f0 = withoutGradients { net(baseline) }
        for i in 0..<3 {
            let sum = maps.slice(axis: 0, start: i, end: i + 1).sum().scalar
            // captum's trapezoid weights sum to (m − 1)/m, not 1.
            let scale: Float = integration == .gaussLegendre ? 1 : Float(o.steps - 1) / Float(o.steps)
            let want = (fx[index: i, targets[i]] - f0[index: 0, targets[i]]) * scale
            #expect(Swift.abs(sum - want) <= 1e-3 * Swift.max(1, Swift.abs(want)), "image \(i): Σ IG \(sum), Δf \(want)")
        }
    }

    @Test func blackBaselineIsZeroPixelsNormalised() throws {
        var o = AttributionOptions()
        o.baseline = .black
        let a = try Attributor(model: smoothNet(), method: .integratedGradients, options: o, input: .mnist)
        let b = try a.baselineTensor(for: .zeros([2, 1, 6, 6]))
        #expect(b.scalars.allSatisfy { Swift.abs($0 - (-0.1307 / 0.3081)) < 1e-6 })
    }
}

struct ControlTests {
    @Test func randomIsSeededUniform() throws {
        var o = AttributionOptions()
        o.seed = 42
        let x = Tensor.zeros([2, 3, 4, 4])
        let a = try Attributor(model: smoothNet(), method: .random, options: o)
        let (first, second) = (try a.attribute(x, targets: [0, 0]).maps, try a.attribute(x, targets: [0, 0]).maps)
        #expect(first.shape == x.shape && first.scalars == second.scalars)
        #expect(first.scalars.allSatisfy { $0 >= 0 && $0 < 1 })
        o.seed = 43
        #expect(try Attributor(model: smoothNet(), method: .random, options: o).attribute(x, targets: [0, 0]).maps.scalars != first.scalars)
    }

    /// By hand: rows are [−1, 0, 1] down, [1, 2, 1] across, borders mirrored (scipy "reflect").
    @Test func sobelMatchesTheHandComputedKernel() {
        // A 3×3 image with a horizontal edge: rows 0, 0, 1 in one channel, a ramp in another.
        let x = Tensor(shape: [1, 2, 3, 3], scalars: [0, 0, 0, 0, 0, 0, 1, 1, 1,
                                                      1, 2, 3, 4, 5, 6, 7, 8, 9])
        let s = Attributor.sobelHeight(x)
        // Channel 0: d/dy per row = [0−0, 1−0, 1−0] (mirrored: row −1 = row 0, row 3 = row 2),
        // each smoothed across by [1, 2, 1] with mirrored columns → ×4.
        // Channel 1: every vertical difference is 3 (row 1: 7−1 = 6, rows 0/2: 3), also ×4.
        #expect(s.scalars == [0, 0, 0, 4, 4, 4, 4, 4, 4,
                              12, 12, 12, 24, 24, 24, 12, 12, 12])
    }
}
