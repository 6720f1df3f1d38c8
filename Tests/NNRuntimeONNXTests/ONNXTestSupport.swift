import Foundation
import NNRuntime
import NNRuntimeONNX
import SwiftProtobuf
import TestSupport

/// The committed ONNX fixtures (Tests/Reference/make_onnx_fixtures.py) and small graphs built here.
enum ONNXFixtures {
    static let file = try! SafeTensors.read(contentsOf: Fixtures.url("onnx/onnx.safetensors"))
    static var tensors: [String: Tensor] { file.tensors }

    static func temporaryFolder() throws -> URL { try ONNXFixture.temporaryFolder() }

    static func materialize(_ name: String, state: [String: Tensor]) throws -> URL {
        try ONNXFixture.materialize(name, state: state, external: true)
    }

    /// Input gradient of `(model(x) · w).sum()`.
    static func inputGradient(_ model: Module, _ x: Tensor, _ w: Tensor) -> Tensor {
        let tape = GradientTape()
        let xs = tape.watch(x)
        let loss = tape.record { (model(xs) * w).sum() }
        return tape.gradient(of: loss)[xs]!
    }
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
}

func maxAbsValue(_ a: Tensor) -> Float { a.scalars.map(Swift.abs).max() ?? 0 }

/// Small ONNX graphs written with the generated protobuf types, for operator and error tests.
struct GraphBuilder {
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var opset = 17
    var inputShape: [Int64?] = [1, 2, 4, 4]

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil,
                       _ attributes: [Onnx_AttributeProto] = []) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = name ?? "/\(op)_\(nodes.count)"
        n.attribute = attributes
        nodes.append(n)
    }

    mutating func floats(_ name: String, _ shape: [Int], _ values: [Float]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = 1
        t.floatData = values
        initializers.append(t)
    }

    /// A float initializer whose data lives in an external file, described by `entries`.
    mutating func externalFloats(_ name: String, _ shape: [Int64], _ entries: [(String, String)]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape
        t.dataType = 1
        t.dataLocation = .external
        t.externalData = entries.map { var e = Onnx_StringStringEntryProto(); e.key = $0.0; e.value = $0.1; return e }
        initializers.append(t)
    }

    mutating func ints(_ name: String, _ values: [Int64]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = [Int64(values.count)]
        t.dataType = 7
        t.int64Data = values
        initializers.append(t)
    }

    static func attribute(_ name: String, ints: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints; return a
    }

    static func attribute(_ name: String, int: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = int; return a
    }

    static func attribute(_ name: String, string: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(string.utf8); return a
    }

    func serialized(output: String = "y") throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.version = Int64(opset)
        model.opsetImport = [opsetID]
        var graph = Onnx_GraphProto()
        graph.name = "test"
        graph.node = nodes
        graph.initializer = initializers
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        input.type.tensorType.elemType = 1
        input.type.tensorType.shape.dim = inputShape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = d } else { dim.dimParam = "batch" }
            return dim
        }
        var out = Onnx_ValueInfoProto()
        out.name = output
        graph.input = [input]
        graph.output = [out]
        model.graph = graph
        return try model.serializedData()
    }

    /// Writes the graph to a temporary `.onnx` file.
    func write(output: String = "y") throws -> URL {
        let url = try ONNXFixtures.temporaryFolder().appendingPathComponent("graph.onnx")
        try serialized(output: output).write(to: url)
        return url
    }

    func model(output: String = "y") throws -> ONNXModel {
        let graph = try ONNXGraph.parse(try serialized(output: output), name: "graph.onnx")
        return try ONNXModel(graph: graph, inputShape: inputShape.map { Int($0 ?? 1) })
    }
}
