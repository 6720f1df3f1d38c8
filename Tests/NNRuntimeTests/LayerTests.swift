import Testing
import NNRuntime
import TestSupport

/// A module with the shapes of torchvision naming: a `features` sequential, an optional child,
/// an array of children and a key-renamed buffer.
private final class Tiny: Module {
    let features = Sequential(Linear(3, 4, seed: 1), BatchNorm2d(4), ReLU())
    let blocks: [Module] = [Linear(4, 4, seed: 2), Residual(Linear(4, 4, seed: 3))]
    let head: Linear? = Linear(4, 2, seed: 4)
    let missing: Linear? = nil
    override func forward(_ x: Tensor) -> Tensor {
        head!(blocks.reduce(features(x)) { $1($0) })
    }
}

@Suite struct LayerTests {
    @Test func pathsFollowPyTorchStateDictNames() {
        let m = Tiny()
        let keys = m.stateDict().map(\.0)
        #expect(keys == [
            "features.0.weight", "features.0.bias",
            "features.1.weight", "features.1.bias", "features.1.running_mean", "features.1.running_var",
            "features.1.num_batches_tracked",
            "blocks.0.weight", "blocks.0.bias",
            "blocks.1.body.weight", "blocks.1.body.bias",
            "head.weight", "head.bias",
        ])
        #expect(m.namedModules().map(\.0) == ["", "features", "features.0", "features.1", "features.2",
                                               "blocks.0", "blocks.1", "blocks.1.body", "head"])
        #expect(m.trainableParameters().count == 10)
    }

    @Test func stateDictRoundTripAndStrictErrors() throws {
        let a = Tiny(), b = Tiny()
        var gen = SeededGenerator(seed: 9)
        for (_, p) in a.namedParameters() { p.value = .randn(p.value.shape, using: &gen) }
        try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict()))
        #expect(b.stateDict().map(\.1.scalars) == a.stateDict().map(\.1.scalars))

        var dict = Dictionary(uniqueKeysWithValues: a.stateDict())
        dict["head.weight"] = nil
        dict["head.extra"] = .zeros([1])
        dict["blocks.0.bias"] = .zeros([5])
        #expect {
            try b.loadStateDict(dict)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("missing keys: head.weight") && text.contains("unexpected keys: head.extra")
                && text.contains("blocks.0.bias expects [4] but the file has [5]") && !text.contains("\n")
        }
        // Nothing changed by the failed load.
        #expect(b.stateDict().map(\.1.scalars) == a.stateDict().map(\.1.scalars))
    }

    @Test func trainAndEvalModes() {
        let m = Tiny()
        m.eval()
        #expect(m.namedModules().allSatisfy { !$0.1.isTraining })
        m.train()
        #expect(m.namedModules().allSatisfy { $0.1.isTraining })
    }

    @Test func batchNormUpdatesRunningStatisticsOnlyInTraining() {
        let bn = BatchNorm2d(2, momentum: 0.1)
        // Channel 0 holds 1, 2, 3, 4; channel 1 holds 0, 0, 2, 2 (N = 2, 1×2 spatial).
        let x = Tensor(shape: [2, 2, 1, 2], scalars: [1, 2, 0, 0, 3, 4, 2, 2])
        _ = bn(x)
        // mean = [2.5, 1]; unbiased var = [5/3, 4/3]; running = 0.9·init + 0.1·batch
        #expect(Compare.close(bn.runningMean.value, Tensor([0.25, 0.1]), tolerance: 1e-6))
        #expect(Compare.close(bn.runningVar.value, Tensor([0.9 + 0.5 / 3, 0.9 + 0.4 / 3]), tolerance: 1e-6))
        #expect(bn.batchesTracked.value.scalar == 1)
        bn.eval()
        let before = bn.runningMean.value.scalars
        let y = bn(x)
        #expect(bn.runningMean.value.scalars == before)
        // Eval: (x − rm)/√(rv + ε)
        let expected = (1 - 0.25) / (0.9 + 0.5 / 3 + 1e-5).squareRoot()
        #expect(Swift.abs(y.scalars[0] - Float(expected)) < 1e-5)
    }

    @Test func dropoutIsSeededScaledAndOffInEval() {
        let d = Dropout(probability: 0.25, seed: 3)
        let x = Tensor.ones([1000])
        let y = d(x)
        let kept = y.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0 - 4.0 / 3.0) < 1e-6 })
        #expect(Swift.abs(Float(kept.count) / 1000 - 0.75) < 0.05)
        #expect(Dropout(probability: 0.25, seed: 3)(x).scalars == y.scalars, "same seed, same mask")
        d.eval()
        #expect(d(x).scalars == x.scalars)
    }

    @Test func linearFoldsLeadingAxes() {
        let fc = Linear(3, 2, seed: 5)
        var gen = SeededGenerator(seed: 1)
        let x = Tensor.randn([2, 4, 3], using: &gen)
        let y = fc(x)
        #expect(y.shape == [2, 4, 2])
        #expect(Compare.close(y.reshaped([8, 2]), fc(x.reshaped([8, 3])), tolerance: 1e-6))
    }

    // MARK: - Finite differences through whole layers, inputs and parameters

    @Test func gradientsOfLinearStack() {
        let net = Sequential(Linear(3, 5, seed: 1), Tanh(), Linear(5, 2, seed: 2), Sigmoid())
        var gen = SeededGenerator(seed: 4)
        let report = GradCheck.check([.randn([4, 3], using: &gen)], module: net) { net($0[0]) }
        #expect(report.maxRelativeError < 1e-2, "\(report)")
    }

    @Test func gradientsOfBatchNormInTrainingMode() {
        let bn = BatchNorm2d(3)
        var gen = SeededGenerator(seed: 6)
        bn.weight!.value = .uniform([3], low: 0.5, high: 1.5, using: &gen)
        bn.bias!.value = .randn([3], using: &gen)
        let report = GradCheck.check([.randn([2, 3, 2, 2], using: &gen)], module: bn) { bn($0[0]) }
        #expect(report.maxRelativeError < 1e-2, "\(report)")
    }

    @Test func gradientsOfResidualWithShortcutAndActivations() {
        let block = Residual(Sequential(Linear(4, 4, seed: 1), LeakyReLU(negativeSlope: 0.2), Linear(4, 4, seed: 2)),
                             shortcut: Linear(4, 4, seed: 3), activation: Tanh())
        let net = Sequential(block, Flatten(), Softmax(axis: 1))
        var gen = SeededGenerator(seed: 8)
        let report = GradCheck.check([.randn([3, 4], using: &gen)], module: net, kinks: []) { net($0[0]) }
        #expect(report.maxRelativeError < 1e-2, "\(report)")
    }

    @Test func gradientsThroughEveryLayerTypeOfASmallCNN() {
        // Conv2d (plain, strided, depthwise), BatchNorm2d, ReLU, ReLU6, pools, Dropout (eval),
        // Flatten and Linear: the tape's parameter and input gradients against finite differences.
        let net = Sequential(
            Conv2d(2, 4, kernelSize: 3, padding: .symmetric(1, 1), seed: 1), BatchNorm2d(4), ReLU(),
            Conv2d(4, 4, kernelSize: 3, stride: 2, padding: .same, groups: 4, seed: 2), ReLU6(),
            MaxPool2d(kernelSize: 2, stride: 1), AvgPool2d(kernelSize: 2, stride: 1, padding: 1),
            AdaptiveAvgPool2d(2), Flatten(), Dropout(probability: 0.3, seed: 1), Linear(16, 3, seed: 3))
        net.eval()
        var gen = SeededGenerator(seed: 21)
        for (_, p) in net.namedParameters() where p.isBuffer && p.value.rank == 1 {
            p.value = .uniform(p.value.shape, low: 0.5, high: 1.5, using: &gen)   // non-trivial running statistics
        }
        let report = GradCheck.check([.randn([2, 2, 6, 6], using: &gen)], module: net, step: 1e-3) { net($0[0]) }
        #expect(report.checked > 200)
        #expect(report.maxRelativeError < 1e-2, "\(report)")
    }

    @Test func descriptionShowsTree() {
        let text = Sequential(Linear(2, 3), ReLU()).description
        #expect(text.contains("(0): Linear(inFeatures: 2, outFeatures: 3, bias: true)"))
        #expect(text.contains("(1): ReLU()"))
    }
}
