/// MobileNetV2 (Sandler et al., CVPR 2018, "MobileNetV2: Inverted Residuals and Linear
/// Bottlenecks"), with torchvision's module tree so its ImageNet state dict loads unchanged
/// (`features.0.0.weight`, `features.1.conv.0.0.weight`, …, `classifier.1.weight`).

/// torchvision's `Conv2dNormActivation`: convolution without bias, batch norm, ReLU6; children `0`,
/// `1`, `2`.
func convBNReLU6(_ input: Int, _ output: Int, kernelSize: Int = 3, stride: Int = 1, groups: Int = 1,
                 eps: Float = 1e-5, seed: UInt64) -> Sequential {
    Sequential(
        Conv2d(input, output, kernelSize: kernelSize, stride: stride,
               padding: .symmetric((kernelSize - 1) / 2, (kernelSize - 1) / 2), groups: groups,
               bias: false, seed: seed),
        BatchNorm2d(output, eps: eps),
        ReLU6())
}

/// The inverted residual block: 1×1 expansion (skipped when the ratio is 1), 3×3 depthwise,
/// linear 1×1 projection; the input is added back when the shape allows.
public final class InvertedResidual: Module {
    public let conv: Sequential
    public let useResidual: Bool

    public init(_ input: Int, _ output: Int, stride: Int, expandRatio: Int, seed: UInt64) {
        let hidden = input * expandRatio
        var layers: [Module] = []
        if expandRatio != 1 { layers.append(convBNReLU6(input, hidden, kernelSize: 1, seed: seed)) }
        layers.append(convBNReLU6(hidden, hidden, stride: stride, groups: hidden, seed: seed &+ 1))
        layers.append(Conv2d(hidden, output, kernelSize: 1, bias: false, seed: seed &+ 2))
        layers.append(BatchNorm2d(output))
        conv = Sequential(layers)
        useResidual = stride == 1 && input == output
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        useResidual ? x + conv(x) : conv(x)
    }
}

/// MobileNetV2 for 224×224 RGB input. `features.0 … features.18` form the trunk; the global
/// average pool is functional, as in torchvision, so it is not a module.
public final class MobileNetV2: Module, TrunkModel {
    public let features: Sequential
    public let classifier: Sequential

    public init(classCount: Int = 1000, dropout: Float = 0.2, seed: UInt64 = 0) {
        // (expansion t, output channels c, repeats n, first stride s) from the paper's table 2.
        let settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                        (6, 160, 3, 2), (6, 320, 1, 1)]
        var layers: [Module] = [convBNReLU6(3, 32, stride: 2, seed: seed)]
        var input = 32
        for (t, c, n, s) in settings {
            for i in 0..<n {
                layers.append(InvertedResidual(input, c, stride: i == 0 ? s : 1, expandRatio: t,
                                               seed: seed &+ UInt64(layers.count) &* 16))
                input = c
            }
        }
        layers.append(convBNReLU6(input, 1280, kernelSize: 1, seed: seed &+ 999))
        features = Sequential(layers)
        classifier = Sequential(Dropout(probability: dropout, seed: seed), Linear(1280, classCount, seed: seed &+ 1000))
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let f = features(x)
        return classifier(adaptiveAvgPool2d(f, outputSize: (1, 1)).flattened())
    }

    public var trunk: [String] { (0..<features.count).map { "features.\($0)" } }
}
