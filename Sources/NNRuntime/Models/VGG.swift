/// VGG (Simonyan & Zisserman, ICLR 2015, "Very Deep Convolutional Networks for Large-Scale Image
/// Recognition") with torchvision's module tree: `features.N` (conv, ReLU and max-pool layers in one
/// sequential, so VGG19's `features.27` is its fourth max-pool, the RDR paper's "layer 27"), a 7×7
/// adaptive average pool and `classifier.0 … classifier.6`.
public final class VGG: Module, TrunkModel {
    public let features: Sequential
    let avgpool = AdaptiveAvgPool2d(7)
    public let classifier: Sequential

    /// Channel counts per conv layer; 0 marks a 2×2 max-pool (torchvision's "M").
    public init(configuration: [Int], classCount: Int = 1000, dropout: Float = 0.5, seed: UInt64 = 0) {
        var layers: [Module] = []
        var input = 3
        for (i, c) in configuration.enumerated() {
            if c == 0 {
                layers.append(MaxPool2d(kernelSize: 2, stride: 2))
            } else {
                layers.append(Conv2d(input, c, kernelSize: 3, padding: .symmetric(1, 1), seed: seed &+ UInt64(i)))
                layers.append(ReLU())
                input = c
            }
        }
        features = Sequential(layers)
        classifier = Sequential(
            Linear(input * 7 * 7, 4096, seed: seed &+ 100), ReLU(), Dropout(probability: dropout, seed: seed &+ 101),
            Linear(4096, 4096, seed: seed &+ 102), ReLU(), Dropout(probability: dropout, seed: seed &+ 103),
            Linear(4096, classCount, seed: seed &+ 104))
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        classifier(avgpool(features(x)).flattened())
    }

    public var trunk: [String] {
        (0..<features.count).map { "features.\($0)" } + ["avgpool"] + (0..<classifier.count).map { "classifier.\($0)" }
    }

    public static func vgg16(classCount: Int = 1000, seed: UInt64 = 0) -> VGG {
        VGG(configuration: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
            classCount: classCount, seed: seed)
    }

    public static func vgg19(classCount: Int = 1000, seed: UInt64 = 0) -> VGG {
        VGG(configuration: [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0,
                            512, 512, 512, 512, 0],
            classCount: classCount, seed: seed)
    }
}
