import Testing
import NNRuntime

/// Shape and size tests for every zoo architecture: the state dict has the source package's keys
/// and counts, and a forward pass gives the expected output shape.
@Suite struct ZooTests {
    func count(_ m: Module) -> (tensors: Int, values: Int, parameters: Int) {
        let sd = m.namedParameters()
        return (sd.count, sd.reduce(0) { $0 + $1.1.value.count },
                sd.filter { !$0.1.isBuffer }.reduce(0) { $0 + $1.1.value.count })
    }

    @Test func mobileNetV2MatchesTorchvision() {
        let m = MobileNetV2()
        let c = count(m)
        // torchvision's mobilenet_v2 state dict: 314 tensors, 3,539,036 values, 3,504,872 parameters.
        #expect(c.tensors == 314 && c.values == 3_539_036 && c.parameters == 3_504_872)
        let keys = m.stateDict().map(\.0)
        #expect(keys.contains("features.1.conv.0.0.weight") && keys.contains("features.2.conv.3.running_var"))
        #expect(keys.last == "classifier.1.bias")
        m.eval()
        #expect(withoutGradients { m(.zeros([1, 3, 64, 64])) }.shape == [1, 1000])
        #expect(m.trunk.count == 19 && m.trunk[18] == "features.18")
    }

    @Test func efficientNetLite0MatchesPackage() {
        let m = EfficientNetLite0()
        let c = count(m)
        // efficientnet-lite0-57934424.pth: 296 tensors, 4,694,073 values.
        #expect(c.tensors == 296 && c.values == 4_694_073)
        let keys = m.stateDict().map(\.0)
        #expect(keys.first == "_conv_stem.weight")
        #expect(keys.contains("_blocks.0._depthwise_conv.weight") && !keys.contains("_blocks.0._expand_conv.weight"))
        #expect(keys.contains("_blocks.15._project_conv.weight") && keys.last == "_fc.bias")
        m.eval()
        #expect(withoutGradients { m(.zeros([1, 3, 224, 224])) }.shape == [1, 1000])
    }

    @Test func mnistCNNMatchesPackage() {
        let m = MNISTCNN()
        let c = count(m)
        #expect(c.tensors == 10 && c.parameters == 390_410)
        #expect(m.stateDict().map(\.0) == ["conv_layers.0.weight", "conv_layers.0.bias", "conv_layers.3.weight",
                                           "conv_layers.3.bias", "conv_layers.6.weight", "conv_layers.6.bias",
                                           "fc_layers.0.weight", "fc_layers.0.bias", "fc_layers.2.weight", "fc_layers.2.bias"])
        #expect(withoutGradients { m(.zeros([2, 1, 28, 28])) }.shape == [2, 10])
    }

    @Test func resNetsMatchTorchvision() {
        let r8 = ResNet.resnet8()
        #expect(count(r8).parameters == 1_227_594, "METHODS.md §4.3")
        #expect(withoutGradients { r8(.zeros([2, 3, 32, 32])) }.shape == [2, 10])
        #expect(r8.trunk == ["conv1", "bn1", "relu", "layer1", "layer2", "layer3", "avgpool", "fc"])
        let r18 = ResNet.resnet18()
        #expect(count(r18).parameters == 11_689_512)
        let keys = r18.stateDict().map(\.0)
        #expect(keys.contains("layer2.0.downsample.0.weight") && keys.contains("layer4.1.bn2.num_batches_tracked"))
        #expect(keys.count == 122)
        r18.eval()
        #expect(withoutGradients { r18(.zeros([1, 3, 64, 64])) }.shape == [1, 1000])
        #expect(count(ResNet.resnet50()).parameters == 25_557_032)
    }

    @Test func vggMatchesTorchvision() {
        let v19 = VGG.vgg19(classCount: 10)
        // torchvision vgg19 has 143,667,240 parameters with 1000 classes; with 10 the last layer
        // loses 990·4097.
        #expect(count(v19).parameters == 143_667_240 - 990 * 4097)
        #expect(v19.features[27] is MaxPool2d, "features.27 is VGG19's fourth max-pool (RDR's layer 27)")
        #expect(v19.features[28] is Conv2d)
        #expect(VGG.vgg16().features.count == 31)
    }
}
