import Foundation
import NNRuntime
import NNRuntimeONNX
import SwiftProtobuf

/// The committed ONNX fixtures are weightless: each graph is stored as `<name>.onnx.json` (the
/// ModelProto in protobuf's JSON form, float initializers without data), so no model file or
/// weights are committed. This builds the `.onnx` file in a temporary folder with the weights put
/// back by initializer name.
public enum ONNXFixture {
    /// A fresh temporary folder.
    public static func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("interp-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes fixture `name` (e.g. `opzoo_ts17.onnx`) with float initializers from `state` —
    /// by default the seeded OpZoo values stored in `onnx.safetensors` as `<file>/<initializer>` —
    /// inline, or in an external data file `<file>.data` beside it.
    public static func materialize(_ name: String, state: [String: Tensor]? = nil, external: Bool = false) throws -> URL {
        let stem = String(name.dropLast(".onnx".count))
        var model = try Onnx_ModelProto(jsonString: String(contentsOf: Fixtures.url("onnx/\(name).json"), encoding: .utf8))
        let weights = try state ?? SafeTensors.read(contentsOf: Fixtures.url("onnx/onnx.safetensors")).tensors
            .reduce(into: [:]) { out, entry in
                if entry.key.hasPrefix(stem + "/") { out[String(entry.key.dropFirst(stem.count + 1))] = entry.value }
            }
        var blob = Data()
        for i in model.graph.initializer.indices where model.graph.initializer[i].dataType == 1 {
            let name = model.graph.initializer[i].name
            guard let value = weights[name] else { throw ONNXError("fixture \(stem): no weights for initializer '\(name)'") }
            let bytes = value.scalars.withUnsafeBufferPointer { Data(buffer: $0) }
            if external {
                model.graph.initializer[i].dataLocation = .external
                model.graph.initializer[i].externalData = [("location", stem + ".data"), ("offset", String(blob.count)),
                                                           ("length", String(bytes.count))].map {
                    var e = Onnx_StringStringEntryProto(); e.key = $0.0; e.value = $0.1; return e
                }
                blob.append(bytes)
            } else {
                model.graph.initializer[i].rawData = bytes
            }
        }
        let dir = try temporaryFolder()
        let url = dir.appendingPathComponent(name)
        try model.serializedData().write(to: url)
        if !blob.isEmpty { try blob.write(to: dir.appendingPathComponent(stem + ".data")) }
        return url
    }
}
