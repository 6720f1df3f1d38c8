import NNRuntime

/// What a kernel sees of one node call: its inputs, attributes and the opset, with accessors that
/// turn every mismatch into an ``ONNXError`` naming the node.
struct ONNXCall {
    let node: ONNXNode
    let inputs: [ONNXValue?]
    let opset: Int
    /// The batch running through a graph exported with a fixed batch of 1, when it is larger: shape
    /// constants that spell that 1 (`Reshape` to `[1, 1280]`) stand for it.
    var batch: Int? = nil

    func error(_ message: String) -> ONNXError {
        ONNXError("node '\(node.name)' (\(node.opType)): \(message)")
    }

    var inputCount: Int { inputs.count }

    /// Input `i`, which must be present.
    func value(_ i: Int) throws -> ONNXValue {
        guard i < inputs.count, let v = inputs[i] else { throw error("input \(i) is missing") }
        return v
    }

    /// Input `i` if given (optional inputs may be omitted or named `""`).
    func optional(_ i: Int) -> ONNXValue? { i < inputs.count ? inputs[i] : nil }

    func float(_ i: Int) throws -> Tensor { try value(i).asFloat }

    /// Input `i` as a list of integers (a 1-D or scalar integer tensor).
    func ints(_ i: Int) throws -> [Int] {
        let v = try value(i)
        guard v.shape.count <= 1 else { throw error("input \(i) must be a 1-D list of integers, got shape \(v.shape)") }
        return v.asInt.ints
    }

    /// Input `i` as one float (a scalar or a one-element tensor), for `Clip` bounds and pad values.
    func scalar(_ i: Int) throws -> Float? {
        guard let v = optional(i) else { return nil }
        let t = v.asFloat
        guard t.count == 1 else { throw error("input \(i) must be a scalar, got shape \(t.shape)") }
        return t.scalars[0]
    }

    func attribute(_ name: String) -> Onnx_AttributeProto? { node.attributes[name] }

    func int(_ name: String, _ defaultValue: Int) -> Int {
        attribute(name).map { Int($0.i) } ?? defaultValue
    }

    func float(_ name: String, _ defaultValue: Float) -> Float {
        attribute(name).map(\.f) ?? defaultValue
    }

    func ints(_ name: String) -> [Int]? {
        attribute(name).map { $0.ints.map { Int($0) } }
    }

    func string(_ name: String, _ defaultValue: String) -> String {
        attribute(name).map { String(decoding: $0.s, as: UTF8.self) } ?? defaultValue
    }

    /// Normalises a possibly negative axis for a tensor of rank `rank`.
    func axis(_ a: Int, rank: Int) throws -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0 && r < rank else { throw error("axis \(a) is out of range for rank \(rank)") }
        return r
    }
}

/// A kernel computes a node's outputs from its inputs with runtime ops, so the tape records every
/// step and gradients flow through the whole graph with the ops' own VJPs.
typealias ONNXKernel = (ONNXCall) throws -> [ONNXValue]

/// The operators interp runs, by ONNX `op_type`.
enum ONNXOperators {
    static let kernels: [String: ONNXKernel] = elementwiseKernels
        .merging(networkKernels) { a, _ in a }
        .merging(shapeKernels) { a, _ in a }

    /// The PyTorch module type a node stands for, so that backward rules (guided backprop matches
    /// `ReLU` and `ReLU6`) and RDR's activation detection treat imported graphs like zoo models.
    static func moduleType(_ node: ONNXNode, constants: [String: ONNXValue]) -> String {
        switch node.opType {
        case "Conv": return "Conv2d"
        case "Relu": return "ReLU"
        case "LeakyRelu": return "LeakyReLU"
        case "Clip":
            func bound(_ i: Int) -> Float? {
                guard i < node.inputs.count, case .float(let t)? = constants[node.inputs[i]], t.count == 1 else { return nil }
                return t.scalars[0]
            }
            let (lo, hi) = node.inputs.count > 1 ? (bound(1), bound(2)) : (nil, nil)
            if lo == 0 && hi == 6 { return "ReLU6" }
            if lo == 0 && hi == nil && node.inputs.count <= 2 { return "ReLU" }
            return "Hardtanh"
        case "Sigmoid": return "Sigmoid"
        case "Tanh": return "Tanh"
        case "HardSigmoid": return "Hardsigmoid"
        case "HardSwish": return "Hardswish"
        case "BatchNormalization": return "BatchNorm2d"
        case "Gemm": return "Linear"
        case "MaxPool": return "MaxPool2d"
        case "AveragePool": return "AvgPool2d"
        case "GlobalAveragePool": return "AdaptiveAvgPool2d"
        case "Softmax": return "Softmax"
        case "Flatten": return "Flatten"
        case "Dropout": return "Dropout"
        default: return node.opType
        }
    }
}
