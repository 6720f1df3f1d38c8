import Foundation
import Testing
import NNRuntime
@testable import ROAR

/// MoRF/LeRF on a linear model whose answer is known: class 1's logit is the sum of the top-left 2×2
/// pixels, class 0's is 0, and the attribution map is exactly those weights.
@Suite struct PerturbationTests {
    func setUp() -> (Module, Tensor, Tensor) {
        let fc = Linear(16, 2, bias: false)
        var w = [Float](repeating: 0, count: 32)
        for p in [0, 1, 4, 5] { w[16 + p] = 1 }
        fc.weight.value = Tensor(shape: [2, 16], scalars: w)
        let model = Sequential(Flatten(), fc)
        let x = Tensor(shape: [2, 1, 4, 4], scalars: (0..<32).map { Float($0 % 16) / 8 + 0.5 })
        let map = Tensor(shape: [1, 1, 4, 4], scalars: Array(w[16...]))
        return (model, x, concat([map, map], axis: 0))
    }

    @Test func pixelCurvesFollowTheWeights() throws {
        let (model, x, maps) = setUp()
        let curves = try PixelPerturbation(percentiles: [25, 50, 100]).run(model: model, inputs: x, maps: maps)
        // LeRF at 25 % and 50 % only touches zero-weight pixels: no change at all.
        #expect(curves.lerf[0] == 0 && curves.lerf[1] == 0)
        // MoRF at 25 %: all four weighted pixels set to 0 → logits (0, 0) → p = 0.5. Hand-computed per image.
        let expected = (0..<2).map { i -> Double in
            let logit = [0, 1, 4, 5].reduce(0.0) { $0 + Double((0..<32).map { Float($0 % 16) / 8 + 0.5 }[i * 16 + $1]) }
            let p0 = 1 / (1 + exp(-logit))
            return abs(p0 - 0.5) / p0 * 100
        }
        #expect(abs(curves.morf[0] - expected.reduce(0, +) / 2) < 1e-4)
        #expect(curves.morf[1] == curves.morf[0] && curves.morf[2] == curves.morf[0])
        #expect(abs(curves.morfArea - (25 * curves.morf[0] + 50 * curves.morf[0])) < 1e-6)
    }

    @Test func regionCurvesAndAOPC() throws {
        let (model, x, maps) = setUp()
        let curves = try RegionPerturbation(region: 2, steps: 100, seed: 1, mean: [0.5], std: [0.25]).run(model: model, inputs: x, maps: maps)
        #expect(curves.steps == [0, 1, 2, 3, 4])
        // MoRF perturbs the weighted region first: the drop is reached at once and stays.
        #expect(curves.morf[0] == 0 && curves.morf[1] != 0)
        #expect(curves.morf[1...].allSatisfy { abs($0 - curves.morf[1]) < 1e-6 })
        // LeRF perturbs the three zero-weight regions first.
        #expect(curves.lerf[0...3].allSatisfy { $0 == 0 } && abs(curves.lerf[4] - curves.morf[4]) < 1e-6)
        #expect(abs(curves.morfArea - 4 * curves.morf[1] / 5) < 1e-6 && abs(curves.lerfArea - curves.morf[1] / 5) < 1e-6)
    }

    @Test func mismatchedShapesAreOneLine() {
        let (model, x, _) = setUp()
        #expect { try PixelPerturbation().run(model: model, inputs: x, maps: Tensor.zeros([2, 1, 3, 4])) } throws: {
            "\($0)".contains("do not match inputs")
        }
    }
}
