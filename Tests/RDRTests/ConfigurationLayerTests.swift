import NNRuntime
import Testing
@testable import RDR

/// Which activation each zoo model's trunk index binarises (random-init models, small inputs), and
/// the call-order log of ``ActivationCapture`` that the resolution relies on.
@Suite struct ConfigurationLayerTests {
    static func input(_ channels: Int, _ size: Int) -> InputSpec {
        InputSpec(channels: channels, height: size, width: size, resizeShortSide: nil, filter: .bilinear,
                  mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
    }

    @Test func vgg19Layer27IsConv5_1sReLU() throws {
        let vgg = try ModelLoader.load(model: "vgg19", randomInit: true)
        let spec = Self.input(3, 64)
        let layer = try ConfigurationLayer.resolve(model: vgg.module, trunk: vgg.trunk, index: 27, input: spec)
        #expect(layer.feature == LayerPath(path: "features.27"))
        #expect(layer.featureShape == [1, 512, 4, 4])
        #expect(layer.configuration == LayerPath(path: "features.29") && layer.configurationType == "ReLU")
        #expect(layer.unitShape == [512, 4, 4] && layer.units == 8192)
        #expect(layer.unitPosition(0) == (0, 0, 0) && layer.unitPosition(16 * 3 + 4 * 2 + 1) == (3, 2, 1))
        #expect(layer.unitPosition(8191) == (511, 3, 3))
        // After block 5 (the notebook's 36): the classifier's first ReLU, a flat layer.
        let head = try ConfigurationLayer.resolve(model: vgg.module, trunk: vgg.trunk, index: 36, input: spec)
        #expect(head.configuration.path == "classifier.1" && head.unitShape == [4096] && head.featureShape == [1, 512, 2, 2])
        #expect(head.unitPosition(17) == (17, 0, 0))
        // The batch forward returns both tensors.
        let (h, c) = layer.forward(vgg.module, .zeros([2, 3, 64, 64]))
        #expect(h.shape == [2, 512, 4, 4] && c.shape == [2, 512, 4, 4])
        // The last stage has nothing after it; indices outside the trunk are named with its range.
        let last = vgg.trunk.count - 1
        expectRDRError("trunk stage \(last) ('classifier.6')") {
            _ = try ConfigurationLayer.resolve(model: vgg.module, trunk: vgg.trunk, index: last, input: spec)
        }
        // classifier.4 is the last ReLU: after it (index 42) nothing binarises; classifier.3 (41) still works.
        #expect(vgg.trunk[42] == "classifier.4")
        expectRDRError("choose an index in 0...41 of the trunk 0...\(last)") {
            _ = try ConfigurationLayer.resolve(model: vgg.module, trunk: vgg.trunk, index: 42, input: spec)
        }
        expectRDRError("layer index \(last + 1) is outside the trunk 0...\(last)") {
            _ = try ConfigurationLayer.resolve(model: vgg.module, trunk: vgg.trunk, index: last + 1, input: spec)
        }
        expectRDRError("layer index -1") {
            _ = try ConfigurationLayer.resolve(model: vgg.module, trunk: vgg.trunk, index: -1, input: spec)
        }
    }

    @Test func resNetStageGivesFirstReLUOfNextBlock() throws {
        let resnet = try ModelLoader.load(model: "resnet8", randomInit: true)
        let trunk = resnet.trunk
        #expect(trunk == ["conv1", "bn1", "relu", "layer1", "layer2", "layer3", "avgpool", "fc"])
        let spec = Self.input(3, 32)
        let afterLayer1 = try ConfigurationLayer.resolve(model: resnet.module, trunk: trunk, index: 3, input: spec)
        #expect(afterLayer1.feature.path == "layer1" && afterLayer1.featureShape == [1, 64, 32, 32])
        #expect(afterLayer1.configuration == LayerPath(path: "layer2.0.relu", call: 1))
        #expect(afterLayer1.configuration.captureName == "layer2.0.relu@1")
        #expect(afterLayer1.unitShape == [128, 16, 16])
        let afterStem = try ConfigurationLayer.resolve(model: resnet.module, trunk: trunk, index: 2, input: spec)
        #expect(afterStem.configuration.captureName == "layer1.0.relu@1" && afterStem.unitShape == [64, 32, 32])
        let afterConv = try ConfigurationLayer.resolve(model: resnet.module, trunk: trunk, index: 0, input: spec)
        #expect(afterConv.configuration == LayerPath(path: "relu") && afterConv.configurationType == "ReLU")
        expectRDRError("choose an index in 0...4") {
            _ = try ConfigurationLayer.resolve(model: resnet.module, trunk: trunk, index: 5, input: spec)
        }
    }

    @Test func mobileNetV2GivesNextExpansionReLU6() throws {
        let mobile = try ModelLoader.load(model: "mobilenet_v2", randomInit: true)
        let spec = Self.input(3, 64)
        let layer = try ConfigurationLayer.resolve(model: mobile.module, trunk: mobile.trunk, index: 3, input: spec)
        #expect(layer.feature.path == "features.3" && layer.featureShape == [1, 24, 16, 16])
        #expect(layer.configuration == LayerPath(path: "features.4.conv.0.2") && layer.configurationType == "ReLU6")
        #expect(layer.unitShape == [144, 16, 16])
        let penultimate = try ConfigurationLayer.resolve(model: mobile.module, trunk: mobile.trunk, index: 17, input: spec)
        #expect(penultimate.configuration.path == "features.18.2" && penultimate.unitShape == [1280, 2, 2])
        expectRDRError("trunk stage 18 ('features.18')") {
            _ = try ConfigurationLayer.resolve(model: mobile.module, trunk: mobile.trunk, index: 18, input: spec)
        }
    }

    @Test func resolvingLeavesTrainingModeAndBatchNormStatisticsAlone() throws {
        let model = ResNet.resnet8(classCount: 10, seed: 3)        // fresh: training mode
        let before = model.stateDict().map { $0.1.scalars }
        _ = try ConfigurationLayer.resolve(model: model, trunk: model.trunk, index: 4, input: Self.input(3, 8))
        #expect(model.namedModules().allSatisfy { $0.1.isTraining })
        #expect(model.stateDict().map { $0.1.scalars } == before)
    }

    @Test func captureLogsCallsInCompletionOrder() {
        let relu = ReLU()
        let net = Sequential(Linear(3, 4, seed: 1), relu, Linear(4, 4, seed: 2), relu)
        let x = Tensor(shape: [1, 3], scalars: [1, -2, 3])
        let (_, all) = capturingAllActivations { () -> Tensor in
            _ = net(x)
            return net(x)                                       // a second forward restarts the log
        }
        #expect(all.calls.map(\.path) == ["0", "1", "2", "1", ""])
        #expect(all.calls.map(\.call) == [1, 1, 1, 2, 1])
        #expect(all.calls.map(\.typeName) == ["Linear", "ReLU", "Linear", "ReLU", "Sequential"])
        let (_, some) = capturingActivations(["1@2", "2"]) { net(x) }
        #expect(some.calls.map { "\($0.path)@\($0.call)" } == ["1@1", "2@1", "1@2"])
        #expect(some["1@2"] != nil && some.callCount("1") == 2)
    }
}
