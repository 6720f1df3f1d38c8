import Foundation
import Testing
import NNRuntime
import NNRuntimeONNX
import TestSupport

/// Bad files give one-line errors naming what was wrong: never a crash, a hang or a silent guess.
struct ONNXErrorTests {
    static func error(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }

    static func relu(opset: Int = 17, op: String = "Relu", input: String = "x") -> GraphBuilder {
        var g = GraphBuilder()
        g.opset = opset
        g.node(op, [input], ["y"], name: "/act/\(op)")
        return g
    }

    @Test func unsupportedOperatorNamesItsNode() throws {
        let message = Self.error { try ONNXGraph.parse(try Self.relu(op: "LSTM").serialized(), name: "m.onnx") }
        #expect(message.contains("operator LSTM of node '/act/LSTM' is not supported"), "\(message)")
        let domain = Self.error {
            var g = Self.relu()
            g.nodes[0].domain = "com.microsoft"
            return try ONNXGraph.parse(try g.serialized(), name: "m.onnx")
        }
        #expect(domain.contains("com.microsoft.Relu"), "\(domain)")
    }

    @Test func structuralErrors() throws {
        #expect(Self.error { try ONNXGraph.parse(try Self.relu(opset: 9).serialized(), name: "m.onnx") }
            .contains("uses opset 9; interp reads opsets 11–23"))
        #expect(Self.error { try ONNXGraph.parse(try Self.relu(input: "w").serialized(), name: "m.onnx") }
            .contains("reads 'w', which no earlier node, initializer or input defines"))
        #expect(Self.error { try ONNXGraph.parse(try Self.relu().serialized(output: "z"), name: "m.onnx") }
            .contains("graph output 'z' is not produced by any node"))
        #expect(Self.error { try ONNXGraph.parse(Data(), name: "m.onnx") }.contains("m.onnx is empty"))
        #expect(Self.error { try ONNXGraph.parse(Data("not a model at all".utf8), name: "m.onnx") }.contains("m.onnx"))
        #expect(Self.error { try ONNXGraph.read(contentsOf: URL(fileURLWithPath: "/nonexistent/m.onnx")) }.contains("does not exist"))
    }

    @Test func kernelErrorsSurfaceAtLoad() throws {
        var g = GraphBuilder()
        g.floats("w", [4, 3, 3, 3], [Float](repeating: 0.1, count: 108))
        g.node("Conv", ["x", "w"], ["y"], name: "/conv/Conv")
        let message = Self.error { try g.model() }
        #expect(message.contains("node '/conv/Conv' (Conv): input channels 2 do not match weight [4, 3, 3, 3]"), "\(message)")
    }

    @Test func externalDataMustStayBesideTheModel() throws {
        for (location, expected) in [("../escape.bin", "must be a relative path inside the model's folder"),
                                     ("/etc/passwd", "must be a relative path inside the model's folder"),
                                     ("missing.bin", "which is not beside the model")] {
            var g = GraphBuilder()
            g.externalFloats("bias", [2], [("location", location)])
            g.node("Add", ["x", "bias"], ["y"])
            let url = try g.write()
            let message = Self.error { try ONNXGraph.read(contentsOf: url) }
            #expect(message.contains(expected), "\(location): \(message)")
        }
    }

    @Test func truncatedExternalDataIsReported() throws {
        var g = GraphBuilder()
        g.externalFloats("bias", [4], [("location", "w.bin"), ("offset", "8"), ("length", "16")])
        g.node("Add", ["x", "bias"], ["y"])
        let url = try g.write()
        try Data(count: 12).write(to: url.deletingLastPathComponent().appendingPathComponent("w.bin"))
        #expect(Self.error { try ONNXGraph.read(contentsOf: url) }.contains("lie outside 'w.bin' (12 bytes)"))
    }

    @Test func preprocessingIsNeverGuessed() throws {
        let url = try ONNXFixture.materialize("opzoo_ts17.onnx")
        #expect(Self.error { try ONNXLoader.load(url.path) }.contains("carries no preprocessing; pass --preprocess"))
        #expect(Self.error { try ONNXLoader.load(url.path, options: ONNXInputOptions(preprocess: "imagenet", crop: 64)) }
            .contains("--crop 64 disagrees with the model's fixed input 32×32"))
        let folder = try ONNXFixtures.temporaryFolder()
        let copy = folder.appendingPathComponent("zoo.onnx")
        try FileManager.default.copyItem(at: url, to: copy)
        try Data(#"{"preprocess": "cifar10", "classes": ["a","b","c","d","e","f","g","h","i","j"]}"#.utf8)
            .write(to: folder.appendingPathComponent("zoo.json"))
        let loaded = try ONNXLoader.load(copy.path)
        #expect(loaded.classNames.first == "a" && loaded.input.mean == InputSpec.cifar10.mean)
        try Data("{\"crop\": \"big\"}".utf8).write(to: folder.appendingPathComponent("zoo.json"))
        #expect(Self.error { try ONNXLoader.load(copy.path) }.contains("zoo.json is not a valid preprocessing sidecar"))
    }

    /// Seeded random damage (flipped, inserted, overwritten bytes, truncation) to a real exported
    /// graph: every outcome is a loaded model or an ONNXError, never a crash.
    @Test func randomCorruptionGivesErrorsNotCrashes() throws {
        let good = [UInt8](try Data(contentsOf: ONNXFixture.materialize("opzoo_ts13.onnx")))
        var gen = SeededGenerator(seed: 11)
        var errors = 0, loaded = 0
        for _ in 0..<300 {
            let bad = Data(Corruption.mutate(good, using: &gen))
            do {
                let graph = try ONNXGraph.parse(bad, name: "bad.onnx")
                _ = try ONNXModel(graph: graph, inputShape: [1, 3, 32, 32])
                loaded += 1
            } catch is ONNXError {
                errors += 1
            }
        }
        #expect(errors > 150, "most corruptions must be caught (\(errors) errors, \(loaded) loaded)")
    }
}
