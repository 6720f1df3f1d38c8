import Foundation
import NNRuntime
import SwiftProtobuf

/// One node of an ONNX graph, with what interp needs to run and address it.
struct ONNXNode {
    let index: Int
    let name: String
    let opType: String
    let domain: String
    /// Input names; `""` marks an omitted optional input.
    let inputs: [String]
    let outputs: [String]
    let attributes: [String: Onnx_AttributeProto]
    /// The exporter's module scopes, outermost first (`["features", "features.18", "features.18.2"]`),
    /// from a TorchScript-style node name (`/features/features.18/features.18.2/Clip`) or the dynamo
    /// exporter's `pkg.torch.onnx.name_scopes`; empty when the exporter kept none.
    let scopes: [String]
    /// The leaf name inside the innermost scope (`Clip`, `hardtanh_34`).
    let leafName: String
    /// The PyTorch class of each scope where the exporter recorded it (`pkg.torch.onnx.class_hierarchy`).
    let scopeTypes: [String]
}

/// An ONNX model read into memory: the nodes in topological order, constant values (initializers),
/// the one image input and the outputs.
///
/// Reading checks everything that can be checked without running: the protobuf parses, the default
/// opset is within ``supportedOpsets``, every operator is one interp implements (the error names the
/// first unsupported one and its node), every node input is defined by an earlier node, an
/// initializer or the input, and every initializer decodes to its declared shape.
public struct ONNXGraph {
    /// Opsets of the default domain that interp reads (operator semantics are version-aware).
    public static let supportedOpsets = 11...23

    public let opset: Int
    public let producer: String
    let nodes: [ONNXNode]
    var constants: [String: ONNXValue]
    public let inputName: String
    /// The input's dimensions; nil for a symbolic dimension (`batch`).
    public let inputShape: [Int?]
    public let outputNames: [String]

    /// Reads and checks an `.onnx` file; external data is resolved beside it.
    public static func read(contentsOf url: URL) throws -> ONNXGraph {
        let file = url.lastPathComponent
        guard FileManager.default.fileExists(atPath: url.path) else { throw ONNXError("ONNX model \(url.path) does not exist") }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw ONNXError("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try parse(data, name: file, baseDirectory: url.deletingLastPathComponent())
    }

    /// Parses serialized `ModelProto` bytes (`name` is used in errors).
    public static func parse(_ data: Data, name: String, baseDirectory: URL? = nil) throws -> ONNXGraph {
        guard !data.isEmpty else { throw ONNXError("\(name) is empty; expected an ONNX model (a serialized ModelProto)") }
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw ONNXError("\(name) is not a readable ONNX model: its protobuf does not decode (\(error)); the file is truncated, corrupt or not ONNX")
        }
        guard model.hasIrVersion, model.irVersion >= 3 else {
            throw ONNXError("\(name) has no ONNX IR version (or one below 3); expected an ONNX model (a serialized ModelProto)")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else { throw ONNXError("\(name) holds no graph nodes") }
        let opsets = Dictionary(model.opsetImport.map { ($0.domain == "ai.onnx" ? "" : $0.domain, Int($0.version)) },
                                uniquingKeysWith: { max($0, $1) })
        guard let opset = opsets[""] else { throw ONNXError("\(name) imports no opset of the default ONNX domain") }
        guard supportedOpsets.contains(opset) else {
            throw ONNXError("\(name) uses opset \(opset); interp reads opsets \(supportedOpsets.lowerBound)–\(supportedOpsets.upperBound) (re-export with opset_version in that range)")
        }
        let graph = model.graph
        var decoder = ONNXTensorDecoder(baseDirectory: baseDirectory)
        var constants: [String: ONNXValue] = [:]
        for (i, t) in graph.initializer.enumerated() {
            guard !t.name.isEmpty else { throw ONNXError("\(name): initializer \(i) has no name") }
            constants[t.name] = try decoder.decode(t, what: "initializer")
        }
        guard graph.sparseInitializer.isEmpty else { throw ONNXError("\(name) has sparse initializers, which interp does not read") }

        let inputs = graph.input.filter { constants[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw ONNXError("\(name) has \(inputs.count) graph inputs (\(inputs.map(\.name).joined(separator: ", "))); interp runs models with exactly one image input")
        }
        let elementType = input.type.tensorType.elemType
        guard [0, 1, 10, 11, 16].contains(elementType) else {
            throw ONNXError("\(name): input '\(input.name)' has element type \(elementType); interp feeds float images")
        }
        let inputShape: [Int?] = input.type.tensorType.shape.dim.map { d in
            if case .dimValue(let v)? = d.value, v > 0 { return Int(v) }
            return nil
        }
        guard !graph.output.isEmpty else { throw ONNXError("\(name) declares no graph outputs") }

        var defined = Set(constants.keys).union([input.name])
        var nodes: [ONNXNode] = []
        for (i, n) in graph.node.enumerated() {
            let label = n.name.isEmpty ? "#\(i)" : "'\(n.name)'"
            let domain = n.domain == "ai.onnx" ? "" : n.domain
            guard domain.isEmpty, ONNXOperators.kernels[n.opType] != nil else {
                let op = domain.isEmpty ? n.opType : "\(domain).\(n.opType)"
                throw ONNXError("\(name): operator \(op) of node \(label) is not supported; interp runs \(ONNXOperators.kernels.keys.sorted().joined(separator: ", "))")
            }
            for input in n.input where !input.isEmpty && !defined.contains(input) {
                throw ONNXError("\(name): node \(label) (\(n.opType)) reads '\(input)', which no earlier node, initializer or input defines")
            }
            guard !n.output.isEmpty, n.output.allSatisfy({ !$0.isEmpty }) else {
                throw ONNXError("\(name): node \(label) (\(n.opType)) has no named output")
            }
            defined.formUnion(n.output)
            let attributes = Dictionary(n.attribute.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let (scopes, leaf) = scopesOf(n, index: i)
            // class_hierarchy lists the root model, then one class per scope, then the op itself.
            let classes = pythonList(n.metadataProps.first { $0.key == "pkg.torch.onnx.class_hierarchy" }?.value ?? "")
                .map { String($0.split(separator: ".").last ?? "") }
            let scopeTypes = !scopes.isEmpty && classes.count == scopes.count + 2 ? Array(classes[1...scopes.count]) : []
            nodes.append(ONNXNode(index: i, name: n.name.isEmpty ? "\(n.opType)_\(i)" : n.name, opType: n.opType, domain: domain,
                                  inputs: n.input, outputs: n.output, attributes: attributes, scopes: scopes, leafName: leaf,
                                  scopeTypes: scopeTypes))
        }
        for output in graph.output where !defined.contains(output.name) {
            throw ONNXError("\(name): graph output '\(output.name)' is not produced by any node")
        }
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        return ONNXGraph(opset: opset, producer: producer, nodes: nodes, constants: constants, inputName: input.name,
                         inputShape: inputShape, outputNames: graph.output.map(\.name))
    }

    /// The module scopes of a node: PyTorch's TorchScript exporter names nodes by their scope
    /// (`/layer1/layer1.0/conv1/Conv`); its dynamo exporter records `pkg.torch.onnx.name_scopes`
    /// (`['', 'layer1', 'layer1.0', 'conv1', 'convolution']`), whose last entry is the node itself.
    private static func scopesOf(_ n: Onnx_NodeProto, index: Int) -> ([String], String) {
        if let entry = n.metadataProps.first(where: { $0.key == "pkg.torch.onnx.name_scopes" }) {
            let names = pythonList(entry.value).filter { !$0.isEmpty }
            if let leaf = names.last { return (Array(names.dropLast()), leaf) }
        }
        if n.name.hasPrefix("/") {
            let parts = n.name.split(separator: "/").map(String.init)
            if let leaf = parts.last { return (Array(parts.dropLast()), leaf) }
        }
        return ([], n.name.isEmpty ? "\(n.opType)_\(index)" : n.name)
    }

    /// The strings of a Python list literal as the exporter writes it (`['', 'features', 'features.0']`).
    private static func pythonList(_ text: String) -> [String] {
        text.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            .split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " '\"")) }
    }
}
