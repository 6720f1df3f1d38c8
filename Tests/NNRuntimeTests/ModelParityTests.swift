import Foundation
import Testing
import NNRuntime
import TestSupport

/// Whole-model parity with PyTorch (Tests/Reference/make_model_fixtures.py): logits of the real
/// pretrained zoo models from the same input tensors, the input gradient of a channel-mean
/// objective at a middle layer, and ResNet-18 / VGG-19 with deterministic weights.
///
/// The pretrained weights come from the asset cache (`interp fetch mobilenet_v2 efficientnet_lite0
/// mnist_cnn`); CI fetches them, so there (CI set) a missing asset fails instead of skipping.
enum ModelFixtures {
    static let file = try! SafeTensors.read(contentsOf: Fixtures.url("models/models.safetensors"))
    static var tensors: [String: Tensor] { file.tensors }
    static let weightsAvailable: Bool = {
        let needed = ["mobilenet_v2", "efficientnet_lite0", "mnist_cnn"]
        guard let manifest = try? AssetManifest.locate() else { return false }
        return needed.allSatisfy { (try? AssetStore().url(of: manifest.asset(named: $0))) != nil }
    }()
    static let enabled = ProcessInfo.processInfo.environment["CI"] != nil || weightsAvailable
}

func cosine(_ a: Tensor, _ b: Tensor) -> Double {
    let x = a.scalars.map(Double.init), y = b.scalars.map(Double.init)
    let dot = zip(x, y).map(*).reduce(0, +)
    return dot / (x.map { $0 * $0 }.reduce(0, +).squareRoot() * y.map { $0 * $0 }.reduce(0, +).squareRoot())
}

func maxAbs(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max()! }

@Suite(.enabled(if: ModelFixtures.enabled, "pretrained weights not fetched (interp fetch mobilenet_v2 efficientnet_lite0 mnist_cnn)"))
struct ModelParityTests {
    @Test(arguments: [("mobilenet_v2", "x224"), ("efficientnet_lite0", "x224"), ("mnist_cnn", "mnist_cnn/x")])
    func logitsMatchPyTorch(_ name: String, _ input: String) throws {
        let model = try ModelLoader.load(model: name)
        let logits = withoutGradients { model.module(ModelFixtures.tensors[input]!) }
        let want = ModelFixtures.tensors["\(name)/logits"]!
        #expect(logits.shape == want.shape)
        let d = maxAbs(logits, want)
        print("parity \(name): logits max |Δ| = \(d)")
        #expect(d <= 1e-3, "\(name): logits max |Δ| \(d)")
        #expect(logits.argmax(axis: 1) == want.argmax(axis: 1))
    }

    @Test(arguments: [("mobilenet_v2", "features.9", 17), ("efficientnet_lite0", "_blocks.7", 5), ("mnist_cnn", "conv_layers.3", 9)])
    func channelObjectiveGradientMatchesPyTorch(_ name: String, _ layer: String, _ channel: Int) throws {
        let model = try ModelLoader.load(model: name)
        let x = ModelFixtures.tensors["\(name)/grad_x"]!
        let tape = GradientTape()
        let xs = tape.watch(x)
        let objective = tape.record { () -> Tensor in
            let (_, acts) = capturingActivations([layer]) { model.module(xs) }
            return acts[layer]!.slice(axis: 1, start: channel, end: channel + 1).mean()
        }
        let g = tape.gradient(of: objective)[xs]!
        let c = cosine(g, ModelFixtures.tensors["\(name)/grad_input"]!)
        print("parity \(name): input-gradient cosine = \(c)")
        #expect(c >= 0.999, "\(name): cosine \(c)")
    }

    @Test(arguments: ["resnet18", "vgg19"])
    func torchvisionArchitecturesWithDeterministicWeights(_ name: String) throws {
        let spec = try ModelRegistry.spec(named: name)
        let module = spec.build(1000, 0)
        try module.loadStateDict(DeterministicWeights.state(for: module))
        module.eval()
        let logits = withoutGradients { module(ModelFixtures.tensors["x64"]!) }
        let want = ModelFixtures.tensors["\(name)/logits"]!
        let d = maxAbs(logits, want)
        let scale = want.scalars.map { Swift.abs($0) }.max()!
        print("parity \(name): logits max |Δ| = \(d) (max |logit| \(scale))")
        #expect(d <= 1e-3 * Swift.max(1, scale), "\(name): \(d)")
    }
}
