import NNRuntime

/// Activations, arithmetic with numpy broadcasting, and the identity-like operators.
extension ONNXOperators {
    static let elementwiseKernels: [String: ONNXKernel] = [
        "Relu": { c in [.float(relu(try c.float(0)))] },
        "LeakyRelu": { c in [.float(leakyReLU(try c.float(0), negativeSlope: c.float("alpha", 0.01)))] },
        "Sigmoid": { c in [.float(sigmoid(try c.float(0)))] },
        "Tanh": { c in [.float(tanh(try c.float(0)))] },
        "Clip": clip,
        // y = max(0, min(1, αx + β)); PyTorch's Hardsigmoid exports α = 1/6.
        "HardSigmoid": { c in
            [.float(hardSigmoid(try c.float(0), alpha: c.float("alpha", 0.2), beta: c.float("beta", 0.5)))]
        },
        // y = x · max(0, min(1, x/6 + 1/2)).
        "HardSwish": { c in
            let x = try c.float(0)
            return [.float(x * hardSigmoid(x, alpha: 1 / 6, beta: 0.5))]
        },
        "Neg": { c in
            switch try c.value(0) {
            case .float(let t): return [.float(-t)]
            case .int(let t): return [.int(IntTensor(shape: t.shape, values: t.values.map { -$0 }))]
            }
        },
        "Sqrt": { c in [.float(try c.float(0).sqrt())] },
        "Exp": { c in [.float(try c.float(0).exp())] },
        "Add": binary(+, { $0 &+ $1 }),
        "Sub": binary(-, { $0 &- $1 }),
        "Mul": binary(*, { $0 &* $1 }),
        "Div": binary(/, { $1 == 0 ? 0 : $0 / $1 }),
        "Identity": { c in [try c.value(0)] },
        // Inference: Dropout passes its input through (the optional mask output is all true).
        "Dropout": { c in
            let x = try c.value(0)
            return [x, .int(IntTensor(shape: x.shape, values: [Int64](repeating: 1, count: x.shape.reduce(1, *))))]
        },
        "Cast": { c in
            let x = try c.value(0)
            return [castTo(type: c.int("to", 1), x)]
        },
        "CastLike": { c in
            let x = try c.value(0)
            return [try c.value(1).isFloat ? .float(x.asFloat) : .int(x.asInt)]
        },
    ]

    static func hardSigmoid(_ x: Tensor, alpha: Float, beta: Float) -> Tensor {
        (x * alpha + beta).clamped(min: 0, max: 1)
    }

    /// ONNX `Cast` to TensorProto data type `type`: floating types stay float32, the rest become integers.
    static func castTo(type: Int, _ x: ONNXValue) -> ONNXValue {
        [1, 10, 11, 16].contains(type) ? .float(x.asFloat) : .int(x.asInt)
    }

    /// `Clip`: bounds are inputs from opset 11 on (attributes before). The ReLU6 and ReLU cases run
    /// the runtime's own ops, which guided backprop's rules recognise.
    static func clip(_ c: ONNXCall) throws -> [ONNXValue] {
        let x = try c.float(0)
        let lo = c.opset >= 11 ? try c.scalar(1) : c.attribute("min").map(\.f)
        let hi = c.opset >= 11 ? try c.scalar(2) : c.attribute("max").map(\.f)
        if lo == 0 && hi == 6 { return [.float(relu6(x))] }
        if lo == 0 && hi == nil { return [.float(relu(x))] }
        return [.float(x.clamped(min: lo ?? -.infinity, max: hi ?? .infinity))]
    }

    /// A binary operator with numpy broadcasting, on floats (recorded on the tape) or on integers.
    static func binary(_ floatOp: @escaping (Tensor, Tensor) -> Tensor,
                       _ intOp: @escaping (Int64, Int64) -> Int64) -> ONNXKernel {
        return { c in
            let (a, b) = (try c.value(0), try c.value(1))
            let shape = try broadcastShape(a.shape, b.shape, c)
            if case .int(let x) = a, case .int(let y) = b {
                return [.int(broadcastInts(x, y, to: shape, intOp))]
            }
            return [.float(floatOp(a.asFloat, b.asFloat))]
        }
    }

    static func broadcastShape(_ a: [Int], _ b: [Int], _ c: ONNXCall) throws -> [Int] {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a, pb = [Int](repeating: 1, count: rank - b.count) + b
        return try zip(pa, pb).map { x, y in
            guard x == y || x == 1 || y == 1 else { throw c.error("shapes \(a) and \(b) do not broadcast") }
            return x == 1 ? y : x
        }
    }

    static func broadcastInts(_ a: IntTensor, _ b: IntTensor, to shape: [Int], _ op: (Int64, Int64) -> Int64) -> IntTensor {
        let count = shape.reduce(1, *)
        func index(_ t: IntTensor, _ flat: Int) -> Int {
            let padded = [Int](repeating: 1, count: shape.count - t.shape.count) + t.shape
            var rest = flat, offset = 0, step = 1
            for axis in (0..<shape.count).reversed() {
                let coordinate = rest % shape[axis]
                rest /= shape[axis]
                if padded[axis] != 1 { offset += coordinate * step }
                step *= padded[axis]
            }
            return offset
        }
        return IntTensor(shape: shape, values: (0..<count).map { op(a.values[index(a, $0)], b.values[index(b, $0)]) })
    }
}
