import Foundation
import Testing
import NNRuntime
import NNRuntimeONNX
import TestSupport

/// Graphs exported by PyTorch's two exporters (Tests/Reference/make_onnx_fixtures.py) give PyTorch's
/// logits and input gradients, and the same layer outputs as the zoo's own models.
///
/// Real-size graphs are committed without weights: their external data is written here from the
/// zoo's fetched weights (MobileNetV2, the MNIST CNN) or from the deterministic weights (ResNet-18).
/// CI fetches the weights, so there a missing asset fails instead of skipping.
enum ZooWeights {
    static let available: Bool = {
        guard let manifest = try? AssetManifest.locate() else { return false }
        return ["mobilenet_v2", "mnist_cnn"].allSatisfy { (try? AssetStore().url(of: manifest.asset(named: $0))) != nil }
    }()
    static let enabled = ProcessInfo.processInfo.environment["CI"] != nil || available
}

struct ONNXOpZooTests {
    /// One small network using every operator family, exported at opsets 11, 13 and 17 by the
    /// TorchScript exporter (BatchNorm folded, shape arithmetic from `x.shape[0]`) and by the dynamo
    /// exporter (opset 20, its optimiser on): same logits and input gradients as PyTorch.
    @Test(arguments: ["opzoo_ts11.onnx", "opzoo_ts13.onnx", "opzoo_ts17.onnx", "opzoo_dynamo.onnx"])
    func matchesPyTorch(_ file: String) throws {
        let loaded = try ONNXLoader.load(try ONNXFixture.materialize(file).path, options: ONNXInputOptions(preprocess: "none"))
        let t = ONNXFixtures.tensors
        let x = t["opzoo.input"]!
        let logits = withoutGradients { loaded.module(x) }
        let want = t["opzoo.logits"]!
        let d = maxAbsDifference(logits, want)
        #expect(d <= 1e-4 * max(1, maxAbsValue(want)), "\(file): logits max |Δ| \(d)")
        let g = ONNXFixtures.inputGradient(loaded.module, x, t["opzoo.weight_for_grad"]!)
        let wantGrad = t["opzoo.input_grad"]!
        let dg = maxAbsDifference(g, wantGrad)
        #expect(dg <= 1e-4 * maxAbsValue(wantGrad), "\(file): input gradient max |Δ| \(dg) of \(maxAbsValue(wantGrad))")
    }
}

@Suite(.enabled(if: ZooWeights.enabled, "zoo weights not fetched (interp fetch mobilenet_v2 mnist_cnn)"))
struct ONNXExportParityTests {
    static func mobileNet(_ file: String) throws -> LoadedModel {
        let zoo = try ModelLoader.load(model: "mobilenet_v2")
        let url = try ONNXFixtures.materialize(file, state: Dictionary(uniqueKeysWithValues: zoo.module.stateDict()))
        return try ONNXLoader.load(url.path, options: ONNXInputOptions(preprocess: "imagenet"))
    }

    /// The real MobileNetV2 through both exporters: PyTorch's logits within 1e-3 and its top-1 on the
    /// foolbox samples, the zoo model's logits and `features.18` output, and PyTorch's input gradient.
    @Test(arguments: ["mobilenet_v2.onnx", "mobilenet_v2_dynamo.onnx"])
    func mobileNetV2MatchesPyTorchAndTheZoo(_ file: String) throws {
        let loaded = try Self.mobileNet(file)
        let zoo = try ModelLoader.load(model: "mobilenet_v2")
        let t = ONNXFixtures.tensors
        let x = t["mobilenet_v2.input"]!
        let (logits, acts) = withoutGradients { capturingActivations(["features.18"]) { loaded.module(x) } }
        let (zooLogits, zooActs) = withoutGradients { capturingActivations(["features.18"]) { zoo.module(x) } }
        let d = maxAbsDifference(logits, t["mobilenet_v2.logits"]!)
        #expect(d <= 1e-3, "\(file): logits max |Δ| from PyTorch \(d)")
        #expect(maxAbsDifference(logits, zooLogits) <= 1e-3)
        #expect(logits.argmax(axis: 1) == t["mobilenet_v2.top1"]!.scalars.map { Int($0) })
        #expect(loaded.classNames[logits.argmax(axis: 1)[0]] == zoo.classNames[zooLogits.argmax(axis: 1)[0]])
        let feature = try #require(acts["features.18"])
        #expect(maxAbsDifference(feature, zooActs["features.18"]!) <= 1e-3)
        #expect(loaded.gradCAMLayer.hasPrefix("features.18"))
        // Unfused exports keep every weight under its torchvision state-dict key.
        let keys = Set(loaded.module.stateDict().map(\.0))
        #expect(keys == Set(zoo.module.stateDict().map(\.0).filter { !$0.hasSuffix("num_batches_tracked") }))

        let g = ONNXFixtures.inputGradient(loaded.module, t["mobilenet_v2.grad_input"]!, t["mobilenet_v2.weight_for_grad"]!)
        let want = t["mobilenet_v2.input_grad"]!
        let dg = maxAbsDifference(g, want)
        #expect(dg <= 1e-3 * maxAbsValue(want), "\(file): input gradient max |Δ| \(dg) of \(maxAbsValue(want))")
    }

    /// The MNIST CNN with its real weights (opset 13): logits and input gradients.
    @Test func mnistCNNMatchesPyTorch() throws {
        let zoo = try ModelLoader.load(model: "mnist_cnn")
        let url = try ONNXFixtures.materialize("mnist_cnn.onnx", state: Dictionary(uniqueKeysWithValues: zoo.module.stateDict()))
        let loaded = try ONNXLoader.load(url.path, options: ONNXInputOptions(preprocess: "mnist", classes: .named("digits")))
        let t = ONNXFixtures.tensors
        let x = t["mnist_cnn.input"]!
        #expect(maxAbsDifference(withoutGradients { loaded.module(x) }, t["mnist_cnn.logits"]!) <= 1e-3)
        let g = ONNXFixtures.inputGradient(loaded.module, x, t["mnist_cnn.weight_for_grad"]!)
        #expect(maxAbsDifference(g, t["mnist_cnn.input_grad"]!) <= 1e-4 * maxAbsValue(t["mnist_cnn.input_grad"]!))
        #expect(loaded.classNames == (0..<10).map(String.init))
        #expect(loaded.input.height == 28 && loaded.input.channels == 1)
    }
}

struct ONNXResNetTests {
    /// torchvision ResNet-18 with the deterministic weights: logits and input gradient; the
    /// exporter's scope names give the zoo's module paths (`layer3.1.relu`, a stage `layer3`).
    @Test func resnet18MatchesPyTorch() throws {
        let zoo = ResNet.resnet18(classCount: 1000, seed: 0)
        let state = DeterministicWeights.lively(DeterministicWeights.state(for: zoo))
        try zoo.loadStateDict(state)
        zoo.eval()
        let url = try ONNXFixtures.materialize("resnet18.onnx", state: state)
        let loaded = try ONNXLoader.load(url.path, options: ONNXInputOptions(preprocess: "imagenet"))
        let t = ONNXFixtures.tensors
        let x = t["resnet18.input"]!
        let (logits, acts) = withoutGradients { capturingActivations(["layer3"]) { loaded.module(x) } }
        let want = t["resnet18.logits"]!
        #expect(maxAbsDifference(logits, want) <= 1e-3 * max(1, maxAbsValue(want)))
        let zooLayer = withoutGradients { capturingActivations(["layer3"]) { zoo(x) }.1["layer3"]! }
        #expect(maxAbsDifference(try #require(acts["layer3"]), zooLayer) <= 1e-3 * max(1, maxAbsValue(zooLayer)))
        let g = ONNXFixtures.inputGradient(loaded.module, x, t["resnet18.weight_for_grad"]!)
        #expect(maxAbsDifference(g, t["resnet18.input_grad"]!) <= 1e-3 * maxAbsValue(t["resnet18.input_grad"]!))
        #expect(loaded.input.height == 64, "the graph's fixed 64×64 input wins over the preset's crop")
    }
}
