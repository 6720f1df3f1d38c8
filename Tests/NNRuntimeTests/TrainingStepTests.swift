import Foundation
import Testing
import NNRuntime
import TestSupport

/// Two optimisation steps (SGD with Nesterov momentum and weight decay, Adam with L2, AdamW) on the
/// MNIST CNN and ResNet-8 in training mode, against PyTorch (Tests/Reference/make_training_fixtures.py):
/// losses, parameters and BatchNorm running statistics after the steps.
@Suite struct TrainingStepTests {
    static let fixture = try! SafeTensors.read(contentsOf: Fixtures.url("training/steps.safetensors")).tensors

    /// numpy's `linspace(0, n − 1, 64).round()` (half to even).
    static func sampleIndices(_ n: Int) -> [Int] {
        guard n > 64 else { return Array(0..<n) }
        return (0..<64).map { Int((Double($0) * Double(n - 1) / 63).rounded(.toNearestOrEven)) }
    }

    @Test(arguments: ["mnist_cnn", "resnet8"], ["sgd", "adam", "adamw"])
    func twoStepsMatchPyTorch(_ modelName: String, _ optimizerName: String) throws {
        let model: Module = modelName == "mnist_cnn" ? MNISTCNN() : ResNet.resnet8()
        try model.loadStateDict(DeterministicWeights.state(for: model))
        model.train()
        // ResNet-8's Adam cases use ε = 1e-4 (see make_training_fixtures.py: with ε = 1e-8, elements
        // whose gradient is ~1e-9 make any float32 Adam differ by O(lr)); the gradients themselves
        // are compared at 1e-5 below.
        let eps: Float = modelName == "resnet8" ? 1e-4 : 1e-8
        let optimizer: Optimizer = switch optimizerName {
        case "sgd": SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true)
        case "adam": Adam(learningRate: 1e-3, eps: eps, weightDecay: 1e-4)
        default: Adam(learningRate: 1e-3, eps: eps, weightDecay: 0.01, decoupledWeightDecay: true)
        }
        let f = Self.fixture
        let x = f["\(modelName)/x"]!, labels = f["\(modelName)/y"]!.scalars.map { Int($0) }
        for step in 0..<2 {
            let (loss, grads) = valueAndGradient(of: model) { m in crossEntropy(m(x), labels: labels, labelSmoothing: 0.1) }
            let want = f["\(modelName)/\(optimizerName)/loss\(step)"]!.scalar
            #expect(Swift.abs(loss.scalar - want) <= 1e-5 * Swift.max(1, Swift.abs(want)), "step \(step) loss \(loss.scalar) vs \(want)")
            if step == 0 {
                for (path, g) in grads.named {
                    let want = f["\(modelName)/grad/\(path)"]!.scalars, got = g.scalars
                    let scale = Swift.max(want.map { Swift.abs($0) }.max()!, 1e-12)
                    let d = zip(Self.sampleIndices(got.count).map { got[$0] }, want).map { Swift.abs($0 - $1) }.max()!
                    #expect(d / scale <= 1e-5, "\(modelName): gradient of \(path) differs by \(d) (max |g| \(scale))")
                }
            }
            optimizer.step(grads)
        }
        var worst: Float = 0, worstKey = ""
        for (key, value) in model.stateDict() {
            let want = f["\(modelName)/\(optimizerName)/after/\(key)"]!.scalars
            let got = value.scalars
            let picked = Self.sampleIndices(got.count).map { got[$0] }
            #expect(picked.count == want.count, "\(key)")
            for (a, b) in zip(picked, want) where Swift.abs(a - b) / Swift.max(1, Swift.abs(b)) > worst {
                worst = Swift.abs(a - b) / Swift.max(1, Swift.abs(b))
                worstKey = key
            }
        }
        print("training step \(modelName)/\(optimizerName): worst parameter difference \(worst) at \(worstKey)")
        #expect(worst <= 1e-5, "\(modelName)/\(optimizerName): \(worstKey) differs by \(worst)")
    }

    @Test func schedulesFollowPyTorch() throws {
        // StepLR(step 10, γ 0.5): epochs 0–9 at 1e-3, 10–19 at 5e-4, 20 at 2.5e-4.
        let s = try LRSchedule.parse("step:10:0.5", epochs: 50)
        #expect(s.learningRate(base: 1e-3, epoch: 9) == 1e-3 && s.learningRate(base: 1e-3, epoch: 10) == 5e-4)
        #expect(s.learningRate(base: 1e-3, epoch: 20) == 2.5e-4)
        let c = try LRSchedule.parse("cosine", epochs: 10)
        #expect(Swift.abs(c.learningRate(base: 1, epoch: 5) - 0.5) < 1e-6 && c.learningRate(base: 1, epoch: 10) < 1e-6)
        #expect(LRSchedule.constant.learningRate(base: 1, epoch: 0, warmupEpochs: 4) == 0.25)
        #expect(throws: (any Error).self) { try LRSchedule.parse("linear", epochs: 3) }
    }

    @Test func gradientClippingScalesToTheMaximumNorm() {
        let fc = Linear(3, 2, seed: 1)
        let (_, g) = valueAndGradient(of: fc) { m in (m(.ones([4, 3])) * 100).sum() }
        let clipped = g.clipped(maxNorm: 1)
        #expect(g.globalNorm > 1)
        #expect(Swift.abs(clipped.globalNorm - 1) < 1e-4)
        #expect(g.clipped(maxNorm: 1e9).globalNorm == g.globalNorm)
    }
}
