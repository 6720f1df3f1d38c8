import Foundation
import Testing
import NNRuntime
import TestSupport

/// Op-level parity with PyTorch: every case of Tests/Reference/make_op_fixtures.py runs here on a
/// tape with the same inputs and upstream gradient; outputs and input gradients must agree to 1e-5
/// relative to their magnitude.
struct ParityCase: Decodable, Sendable, CustomTestStringConvertible {
    let `case`: String
    let op: String
    let params: [String: JSONValue]
    let inputs: [String]
    let grads: [String]
    let extra_outputs: [String]
    var testDescription: String { self.case }
}

/// The JSON values the fixture params use.
enum JSONValue: Decodable, Sendable {
    case number(Double), bool(Bool), string(String), array([JSONValue]), null
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let text = try? c.decode(String.self) { self = .string(text) }
        else { self = .array(try c.decode([JSONValue].self)) }
    }
    var int: Int { if case let .number(n) = self { return Int(n) }; fatalError("not a number") }
    var double: Double { if case let .number(n) = self { return n }; fatalError("not a number") }
    var string: String { if case let .string(text) = self { return text }; fatalError("not a string") }
    var doubles: (Double, Double) {
        guard case let .array(a) = self, a.count == 2 else { fatalError("not a pair of numbers") }
        return (a[0].double, a[1].double)
    }
    var float: Float { if case let .number(n) = self { return Float(n) }; fatalError("not a number") }
    var bool: Bool { if case let .bool(b) = self { return b }; fatalError("not a bool") }
    var ints: [Int]? { if case let .array(a) = self { return a.map(\.int) }; return nil }
    var pair: (Int, Int) { let a = ints!; return (a[0], a[1]) }
}

struct ParityFixtures: Decodable {
    let torch: String
    let cases: [ParityCase]
    static let shared: ParityFixtures = try! JSONDecoder().decode(ParityFixtures.self, from: Data(contentsOf: Fixtures.url("ops.json")))
    static let tensors: [String: Tensor] = try! SafeTensors.read(contentsOf: Fixtures.url("ops.safetensors")).tensors
}

/// Runs one fixture case's op on Swift tensors; `extra` receives side outputs (running statistics).
func runParityOp(_ c: ParityCase, _ t: [String: Tensor], extra: inout [String: Tensor]) -> Tensor {
    let p = c.params
    let x = t[c.inputs[0]]!
    switch c.op {
    case "add": return x + t["y"]!
    case "sub": return x - t["y"]!
    case "mul": return x * t["y"]!
    case "div": return x / t["y"]!
    case "neg": return -x
    case "maximum": return Tensor.maximum(x, t["y"]!)
    case "exp": return x.exp()
    case "log": return x.log()
    case "sqrt": return x.sqrt()
    case "square": return x.squared()
    case "pow": return x.pow(p["p"]!.float)
    case "abs": return x.abs()
    case "clamp": return x.clamped(min: p["min"]!.float, max: p["max"]!.float)
    case "sum": return x.sum(axes: p["axes"]!.ints, keepDims: p["keep"]!.bool)
    case "mean": return x.mean(axes: p["axes"]!.ints, keepDims: p["keep"]!.bool)
    case "max": return x.max(axis: p["axis"]!.int)
    case "variance": return x.variance(axes: p["axes"]!.ints)
    case "reshape": return x.reshaped(p["shape"]!.ints!)
    case "permute": return x.permuted(p["axes"]!.ints!)
    case "slice": return x.slice(axis: p["axis"]!.int, start: p["start"]!.int, end: p["end"]!.int, step: p["step"]!.int)
    case "indexSelect": return x.indexSelect(axis: p["axis"]!.int, indices: p["indices"]!.ints!)
    case "concat": return concat(c.inputs.map { t[$0]! }, axis: p["axis"]!.int)
    case "pad":
        guard case let .array(pairs) = p["pads"]! else { fatalError() }
        return x.padded(pairs.map(\.pair), value: p["value"]!.float)
    case "matmul": return matmul(x, t["y"]!)
    case "linear": return linear(x, weight: t["w"]!, bias: t["b"]!)
    case "conv2d":
        let pad = p["padding"]!.ints!
        let padding: Padding2d = p["same"]!.bool ? .same : .explicit(top: pad[0], bottom: pad[1], left: pad[2], right: pad[3])
        return conv2d(x, weight: t["w"]!, bias: t["b"], stride: p["stride"]!.pair, padding: padding,
                      dilation: p["dilation"]!.pair, groups: p["groups"]!.int)
    case "maxPool2d":
        return maxPool2d(x, kernelSize: p["kernel"]!.pair, stride: p["stride"]!.pair, padding: p["padding"]!.pair,
                         ceilMode: p["ceil"]!.bool)
    case "avgPool2d":
        return avgPool2d(x, kernelSize: p["kernel"]!.pair, stride: p["stride"]!.pair, padding: p["padding"]!.pair,
                         ceilMode: p["ceil"]!.bool, countIncludePad: p["include"]!.bool)
    case "adaptiveAvgPool2d": return adaptiveAvgPool2d(x, outputSize: p["size"]!.pair)
    case "resizeBilinear": return resizeBilinear(x, size: p["size"]!.pair, alignCorners: p["align"]!.bool)
    case "batchNorm":
        let r = batchNorm(x, runningMean: t["running_mean"]!, runningVar: t["running_var"]!, weight: t["w"], bias: t["b"],
                          training: p["training"]!.bool, momentum: p["momentum"]!.float, eps: p["eps"]!.float)
        extra["running_mean_after"] = r.runningMean
        extra["running_var_after"] = r.runningVar
        return r.output
    case "relu": return relu(x)
    case "relu6": return relu6(x)
    case "leakyReLU": return leakyReLU(x, negativeSlope: p["slope"]!.float)
    case "sigmoid": return sigmoid(x)
    case "tanh": return tanh(x)
    case "softmax": return softmax(x, axis: p["axis"]!.int)
    case "logSoftmax": return logSoftmax(x, axis: p["axis"]!.int)
    case "crossEntropy":
        return crossEntropy(x, labels: t["labels"]!.scalars.map { Int($0) }, labelSmoothing: p["smoothing"]!.float)
    case "nllLoss": return nllLoss(x, labels: t["labels"]!.scalars.map { Int($0) })
    case "dropout":
        var generator = SeededGenerator(seed: 0)
        return dropout(x, probability: p["p"]!.float, training: p["training"]!.bool, generator: &generator)
    case "irfft2": return irfft2(x, width: p["width"]!.int, normalization: FFTNormalization(rawValue: p["norm"]!.string)!)
    case "affineWarp":
        let (tx, ty) = p["translate"]!.doubles, (sx, sy) = p["shear"]!.doubles
        let transform = AffineParameters(angle: p["angle"]!.double, translate: (tx, ty), scale: p["scale"]!.double, shear: (sx, sy))
        return affineWarp(x, transforms: [transform], interpolation: p["bilinear"]!.bool ? .bilinear : .nearest,
                          fill: p["fill"]!.float)
    default: fatalError("no Swift op for fixture op \(c.op)")
    }
}

/// Runs a case on `tape`: its inputs (watched when they have a reference gradient), the output, side
/// outputs and the gradients for the fixture's `grad_out`.
func runParityCase(_ c: ParityCase, on tape: GradientTape)
    -> (inputs: [String: Tensor], out: Tensor, extra: [String: Tensor], grads: Gradients) {
    let all = ParityFixtures.tensors
    var inputs: [String: Tensor] = [:]
    for name in c.inputs {
        let v = all["\(c.case)/\(name)"]!
        inputs[name] = c.grads.contains(name) ? tape.watch(v) : v
    }
    var extra: [String: Tensor] = [:]
    let out = tape.record { runParityOp(c, inputs, extra: &extra) }
    let grads = tape.gradient(of: out, seed: all["\(c.case)/grad_out"]!)
    return (inputs, out, extra, grads)
}

/// Collects the op kinds of the nodes a backward pass visits (never replaces a pullback).
final class OpKindObserver: @unchecked Sendable {
    var seen: Set<OpKind> = []
    var rule: BackwardRule {
        BackwardRule(name: "observe", matches: { [self] ctx in seen.insert(ctx.op); return false },
                     pullback: { _, _ in [] })
    }
}

@Suite struct PyTorchParityTests {
    @Test(arguments: ParityFixtures.shared.cases)
    func matchesPyTorch(_ c: ParityCase) {
        let all = ParityFixtures.tensors
        let (inputs, out, extra, grads) = runParityCase(c, on: GradientTape())
        let expected = all["\(c.case)/out"]!
        #expect(out.shape == expected.shape, "\(c.case): output shape \(out.shape), PyTorch \(expected.shape)")
        guard out.shape == expected.shape else { return }
        let d = Compare.maxScaledDifference(out, expected)
        #expect(d <= 1e-5, "\(c.case): output differs by \(d)")
        for name in c.extra_outputs {
            let d = Compare.maxScaledDifference(extra[name]!, all["\(c.case)/\(name)"]!)
            #expect(d <= 1e-5, "\(c.case): \(name) differs by \(d)")
        }
        for name in c.grads {
            let got = grads[inputs[name]!]!, want = all["\(c.case)/grad_\(name)"]!
            #expect(got.shape == want.shape, "\(c.case): gradient of \(name) has shape \(got.shape), PyTorch \(want.shape)")
            guard got.shape == want.shape else { continue }
            let d = Compare.maxScaledDifference(got, want)
            #expect(d <= 1e-5, "\(c.case): gradient of \(name) differs by \(d)")
        }
    }

    /// Every op kind is recorded and back-propagated by at least one fixture case, so a new
    /// primitive without a PyTorch fixture fails here. `broadcast` (and `expand`, where it exists)
    /// are exercised by the broadcasting cases but have no PyTorch counterpart of their own.
    @Test func everyOpHasAFixture() {
        let observer = OpKindObserver()
        for c in ParityFixtures.shared.cases {
            _ = runParityCase(c, on: GradientTape(rules: [observer.rule]))
        }
        let exempt: Set<String> = ["leaf", "custom", "broadcast", "expand"]
        for op in OpKind.allCases where !exempt.contains(op.rawValue) {
            #expect(observer.seen.contains(op), "no PyTorch fixture case records op \(op.rawValue)")
        }
        // The fixture's op names are the op kinds or the composite ops (mean, variance) built from them.
        let names = Set(OpKind.allCases.map(\.rawValue)).union(["mean", "variance", "crossEntropy"])
        for c in ParityFixtures.shared.cases { #expect(names.contains(c.op), "\(c.case): unknown op \(c.op)") }
    }
}
