import Foundation
import Testing
import ArgumentParser
import NNRuntime
import TestSupport
@testable import InterpCLI

/// Every analysis command runs end to end on an imported ONNX graph (a small network exported by
/// PyTorch with inline weights, fed as CIFAR-10); retraining commands refuse it clearly.
@Suite struct ONNXCommandTests {
    static let graph = try! ONNXFixture.materialize("opzoo_ts17.onnx").path
    static let samplesFetched = ProcessInfo.processInfo.environment["CI"] != nil
        || (try? AssetStore().url(of: AssetManifest.locate().asset(named: "foolbox-samples"))) != nil

    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("onnx-cli-\(UUID().uuidString)")
    }

    static func result(_ dir: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("result.json"))) as! [String: Any]
    }

    @Test(.enabled(if: samplesFetched))
    func analysisCommandsRunOnAnONNXGraph() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = ["--model", Self.graph, "--preprocess", "cifar10", "--classes", "cifar10"]
        let data = ["--data", "foolbox-cifar10"]

        let attribute = try #require(try Interp.parseAsRoot(["attribute"] + model + data + ["--attribution", "saliency,gradcam,guided-backprop",
                                                              "--out", dir.appendingPathComponent("attribute").path]) as? AttributeCommand)
        try attribute.run()
        let maps = try Self.result(dir.appendingPathComponent("attribute"))
        #expect((maps["images"] as? [Any])?.count ?? (maps["images"] as? Int ?? 0) > 0)

        let perturb = try #require(try Interp.parseAsRoot(["perturb"] + model + data + ["--limit", "4", "--attribution", "gradcam,random",
                                                            "--percentiles", "10,50", "--out", dir.appendingPathComponent("perturb").path]) as? PerturbCommand)
        try perturb.run()
        #expect(try Self.result(dir.appendingPathComponent("perturb"))["images"] as? Int == 4)

        let activations = try #require(try Interp.parseAsRoot(["activations"] + model + data + ["--layer", "/pw/Conv_output_0",
                                                                "--out", dir.appendingPathComponent("pw.npy").path]) as? ActivationsCommand)
        try activations.run()
        let matrix: Tensor = try NPY.read(contentsOf: dir.appendingPathComponent("pw.npy"))
        #expect(matrix.shape.last == 16, "the tensor name resolves to the pw conv's 16 channels, pooled per image")

        let dora = try #require(try Interp.parseAsRoot(["dora"] + model + ["--layer", "pw", "--neurons", "0-7", "--iters", "4",
                                                         "--out", dir.appendingPathComponent("dora").path]) as? DoraCommand)
        try dora.run()
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("dora/report.html").path))

        let invert = try #require(try Interp.parseAsRoot(["invert"] + model + data + ["--layer", "pw", "--concepts", "classes",
                                                           "--length", "1", "--beam", "1", "--max-fraction", "1",
                                                           "--out", dir.appendingPathComponent("invert").path]) as? InvertCommand)
        try invert.run()
        #expect((try Self.result(dir.appendingPathComponent("invert"))["neurons"] as? [Any])?.count == 16)

        // Trunk index 8 is the depthwise conv `dw`; the activation after it is the ReLU6 `Clip`.
        let rdr = try #require(try Interp.parseAsRoot(["rdr"] + model + data + ["--layer", "8", "--k", "3", "--targets", "2",
                                                        "--out", dir.appendingPathComponent("rdr").path]) as? RDRCommand)
        try rdr.run()
        let regions = try Self.result(dir.appendingPathComponent("rdr"))
        #expect(regions["units"] as? Int == 12 * 16 * 16)
    }

    @Test func retrainingAndMisplacedOptionsAreRefused() throws {
        #expect { try Interp.parseAsRoot(["roar", "--model", Self.graph, "--data", "mnist5k", "--attribution", "saliency"]) } throws: {
            Interp.message(for: $0).contains("needs a zoo architecture")
        }
        #expect { try Interp.parseAsRoot(["train", "--model", Self.graph, "--data", "mnist5k", "--epochs", "1"]) } throws: {
            Interp.message(for: $0).contains("needs a zoo architecture")
        }
        let mixed = try #require(try Interp.parseAsRoot(["layers", "--model", "mnist_cnn", "--preprocess", "imagenet"]) as? LayersCommand)
        #expect { try mixed.model.load() } throws: { "\($0)".contains("apply to .onnx models") }
        let weights = try #require(try Interp.parseAsRoot(["layers", "--model", Self.graph, "--weights", "w.pth"]) as? LayersCommand)
        #expect { try weights.model.load() } throws: { "\($0)".contains("--weights does not apply to an .onnx model") }
        let bare = try #require(try Interp.parseAsRoot(["layers", "--model", Self.graph]) as? LayersCommand)
        #expect { try bare.model.load() } throws: { "\($0)".contains("carries no preprocessing") }
        let loaded = try #require(try Interp.parseAsRoot(["layers", "--model", Self.graph, "--preprocess", "cifar10"]) as? LayersCommand).model.load()
        #expect(loaded.trunk.count == 49 && loaded.input.height == 32 && loaded.gradCAMLayer == "Reshape_3")
    }
}
