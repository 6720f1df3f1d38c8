import Testing
import NNRuntime
import TestSupport

/// Central finite-difference checks of every op's VJP (ggml's MODE_GRAD): the tape's gradient of
/// `Σ f(x)·r` against `(L(x+h) − L(x−h)) / 2h`, element by element, for every input.
struct GradCase: Sendable, CustomTestStringConvertible {
    let name: String
    let shapes: [[Int]]
    var positive = false          // inputs drawn in (0.5, 2) for log/sqrt/pow/div
    var kinks: [Float] = []
    var tolerance: Float = 1e-2
    let f: @Sendable ([Tensor]) -> Tensor
    var testDescription: String { name }

    func inputs(seed: UInt64 = 1) -> [Tensor] {
        var gen = SeededGenerator(seed: seed)
        return shapes.map { positive ? .uniform($0, low: 0.5, high: 2, using: &gen) : .randn($0, using: &gen) }
    }
}

let elementwiseCases: [GradCase] = [
    GradCase(name: "add broadcast", shapes: [[2, 3, 4], [3, 1]]) { $0[0] + $0[1] },
    GradCase(name: "sub broadcast", shapes: [[2, 3, 4], [4]]) { $0[0] - $0[1] },
    GradCase(name: "mul broadcast", shapes: [[2, 3, 4], [1, 3, 1]]) { $0[0] * $0[1] },
    GradCase(name: "div broadcast", shapes: [[2, 3], [3]], positive: true) { $0[0] / $0[1] },
    GradCase(name: "scalar affine", shapes: [[5]]) { 3 - 2 * $0[0] / 4 + 1 },
    GradCase(name: "neg", shapes: [[4]]) { -$0[0] },
    GradCase(name: "maximum", shapes: [[3, 4], [4]]) { Tensor.maximum($0[0], $0[1]) },
    GradCase(name: "minimum", shapes: [[3, 4], [3, 4]]) { Tensor.minimum($0[0], $0[1]) },
    GradCase(name: "exp", shapes: [[6]]) { $0[0].exp() },
    GradCase(name: "log", shapes: [[6]], positive: true) { $0[0].log() },
    GradCase(name: "sqrt", shapes: [[6]], positive: true) { $0[0].sqrt() },
    GradCase(name: "squared", shapes: [[6]]) { $0[0].squared() },
    GradCase(name: "pow", shapes: [[6]], positive: true) { $0[0].pow(2.5) },
    GradCase(name: "abs", shapes: [[8]], kinks: [0]) { $0[0].abs() },
    GradCase(name: "clamped", shapes: [[12]], kinks: [-0.5, 0.7]) { $0[0].clamped(min: -0.5, max: 0.7) },
]

let reductionAndShapeCases: [GradCase] = [
    GradCase(name: "sum axis 1", shapes: [[2, 3, 4]]) { $0[0].sum(axes: [1]) },
    GradCase(name: "sum axes 0,2 keepDims", shapes: [[2, 3, 4]]) { $0[0].sum(axes: [0, 2], keepDims: true) },
    GradCase(name: "sum all", shapes: [[2, 3]]) { $0[0].sum() },
    GradCase(name: "mean axis -1", shapes: [[2, 3, 4]]) { $0[0].mean(axes: [-1]) },
    GradCase(name: "max axis 1", shapes: [[3, 5, 2]]) { $0[0].max(axis: 1) },
    GradCase(name: "variance", shapes: [[3, 5]]) { $0[0].variance(axes: [1]) },
    GradCase(name: "reshape", shapes: [[2, 6]]) { $0[0].reshaped([3, -1]) * $0[0].reshaped([3, 4]) },
    GradCase(name: "permute", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
    GradCase(name: "transposed", shapes: [[3, 4]]) { $0[0].transposed() },
    GradCase(name: "slice step 2", shapes: [[2, 7, 3]]) { $0[0].slice(axis: 1, start: 1, end: 6, step: 2) },
    GradCase(name: "slice negative", shapes: [[5, 2]]) { $0[0].slice(axis: 0, start: -3) },
    GradCase(name: "indexSelect with repeats", shapes: [[2, 4, 3]]) { $0[0].indexSelect(axis: 1, indices: [3, 0, 3, 1]) },
    GradCase(name: "concat", shapes: [[2, 1, 3], [2, 2, 3], [2, 3, 3]]) { concat($0, axis: 1) },
    GradCase(name: "pad asymmetric", shapes: [[2, 3, 4]]) { $0[0].padded([(1, 2), (0, 1)], value: 0.5) },
    GradCase(name: "pad crop", shapes: [[3, 5]]) { $0[0].padded([(-1, 2)]) },
    GradCase(name: "broadcast to", shapes: [[3, 1]]) { $0[0].broadcast(to: [2, 3, 4]) },
    GradCase(name: "index", shapes: [[3, 4]]) { $0[0][1, 2] + $0[0][2] .sum() },
]

let linearAndActivationCases: [GradCase] = [
    GradCase(name: "matmul", shapes: [[3, 4], [4, 5]]) { matmul($0[0], $0[1]) },
    GradCase(name: "batched matmul", shapes: [[2, 3, 4], [2, 4, 2]]) { matmul($0[0], $0[1]) },
    GradCase(name: "linear", shapes: [[5, 7], [3, 7], [3]]) { linear($0[0], weight: $0[1], bias: $0[2]) },
    GradCase(name: "linear no bias", shapes: [[2, 3], [4, 3]]) { linear($0[0], weight: $0[1]) },
    GradCase(name: "relu", shapes: [[20]], kinks: [0]) { relu($0[0]) },
    GradCase(name: "relu6", shapes: [[20]], kinks: [0, 1.5]) { relu6($0[0] * 4) },  // kinks of relu6(4x) at x = 0 and 1.5
    GradCase(name: "leakyReLU", shapes: [[20]], kinks: [0]) { leakyReLU($0[0], negativeSlope: 0.1) },
    GradCase(name: "sigmoid", shapes: [[10]]) { sigmoid($0[0] * 3) },
    GradCase(name: "tanh", shapes: [[10]]) { tanh($0[0]) },
    GradCase(name: "softmax axis 1", shapes: [[2, 5, 3]]) { softmax($0[0], axis: 1) },
    GradCase(name: "logSoftmax", shapes: [[3, 6]]) { logSoftmax($0[0]) },
    GradCase(name: "crossEntropy", shapes: [[4, 5]]) { crossEntropy($0[0], labels: [0, 3, 4, 1]) },
    GradCase(name: "crossEntropy smoothing", shapes: [[4, 5]]) { crossEntropy($0[0], labels: [2, 2, 0, 1], labelSmoothing: 0.1) },
    GradCase(name: "nllLoss", shapes: [[3, 4]]) { nllLoss($0[0], labels: [3, 0, 2]) },
    GradCase(name: "batchNorm train", shapes: [[3, 2, 2, 3], [2], [2]]) {
        batchNorm($0[0], runningMean: .zeros([2]), runningVar: .ones([2]), weight: $0[1], bias: $0[2], training: true).output
    },
    GradCase(name: "batchNorm train NC", shapes: [[5, 3], [3], [3]]) {
        batchNorm($0[0], runningMean: .zeros([3]), runningVar: .ones([3]), weight: $0[1], bias: $0[2], training: true).output
    },
    GradCase(name: "batchNorm eval", shapes: [[2, 3, 2, 2], [3], [3]]) {
        batchNorm($0[0], runningMean: Tensor([0.1, -0.2, 0.3]), runningVar: Tensor([0.5, 1.5, 2]),
                  weight: $0[1], bias: $0[2], training: false).output
    },
    GradCase(name: "dropout (fixed mask)", shapes: [[4, 5]]) {
        var gen = SeededGenerator(seed: 3)
        return dropout($0[0], probability: 0.3, training: true, generator: &gen)
    },
]

@Suite struct OpGradientTests {
    @Test(arguments: elementwiseCases + reductionAndShapeCases + linearAndActivationCases)
    func finiteDifferences(_ c: GradCase) {
        let report = GradCheck.check(c.inputs(), kinks: c.kinks, c.f)
        #expect(report.checked > 0, "\(c.name): nothing was checked")
        #expect(report.maxRelativeError < c.tolerance, "\(c.name): \(report)")
    }
}
