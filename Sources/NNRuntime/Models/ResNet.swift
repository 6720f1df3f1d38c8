/// ResNets (He et al., CVPR 2016, "Deep Residual Learning for Image Recognition") with torchvision's
/// module tree (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`), plus the 8-layer
/// CIFAR variant of the ROAR reference implementation (METHODS.md §4.3).
///
/// Each block owns one `relu` module called twice (after `bn1` and after the residual sum), as in
/// torchvision: the capture `layer1.0.relu` sees the block output, `layer1.0.relu@1` the inner one.

/// The two-convolution block of ResNet-18/34 and ResNet-8.
public final class BasicBlock: Module {
    public static let expansion = 1
    let conv1: Conv2d, bn1: BatchNorm2d, relu = ReLU()
    let conv2: Conv2d, bn2: BatchNorm2d
    let downsample: Sequential?

    init(_ input: Int, _ planes: Int, stride: Int, seed: UInt64) {
        conv1 = Conv2d(input, planes, kernelSize: 3, stride: stride, padding: .symmetric(1, 1), bias: false, seed: seed)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, padding: .symmetric(1, 1), bias: false, seed: seed &+ 1)
        bn2 = BatchNorm2d(planes)
        downsample = stride != 1 || input != planes
            ? Sequential(Conv2d(input, planes, kernelSize: 1, stride: stride, bias: false, seed: seed &+ 2), BatchNorm2d(planes))
            : nil
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let out = bn2(conv2(relu(bn1(conv1(x)))))
        return relu(out + (downsample?(x) ?? x))
    }
}

/// The 1×1–3×3–1×1 bottleneck block of ResNet-50 (stride on the 3×3, torchvision's "v1.5").
public final class Bottleneck: Module {
    public static let expansion = 4
    let conv1: Conv2d, bn1: BatchNorm2d
    let conv2: Conv2d, bn2: BatchNorm2d
    let conv3: Conv2d, bn3: BatchNorm2d
    let relu = ReLU()
    let downsample: Sequential?

    init(_ input: Int, _ planes: Int, stride: Int, seed: UInt64) {
        let out = planes * Bottleneck.expansion
        conv1 = Conv2d(input, planes, kernelSize: 1, bias: false, seed: seed)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: .symmetric(1, 1), bias: false, seed: seed &+ 1)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, out, kernelSize: 1, bias: false, seed: seed &+ 2)
        bn3 = BatchNorm2d(out)
        downsample = stride != 1 || input != out
            ? Sequential(Conv2d(input, out, kernelSize: 1, stride: stride, bias: false, seed: seed &+ 3), BatchNorm2d(out))
            : nil
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        var out = relu(bn1(conv1(x)))
        out = relu(bn2(conv2(out)))
        out = bn3(conv3(out))
        return relu(out + (downsample?(x) ?? x))
    }
}

/// torchvision's ResNet: 7×7 stem and max-pool for ImageNet, or (the CIFAR variant) a 3×3 stem
/// without max-pool; `layerCounts` blocks per stage; global average pool and a linear head.
public final class ResNet: Module, TrunkModel {
    let conv1: Conv2d, bn1: BatchNorm2d, relu = ReLU()
    let maxpool: MaxPool2d?
    public let layers: [Sequential]
    let avgpool = AdaptiveAvgPool2d(1)
    let fc: Linear

    public enum Block { case basic, bottleneck }

    public init(block: Block, layerCounts: [Int], widths: [Int] = [64, 128, 256, 512], classCount: Int = 1000,
                cifarStem: Bool = false, seed: UInt64 = 0) {
        precondition(layerCounts.count == widths.count, "ResNet: one width per stage")
        if cifarStem {
            conv1 = Conv2d(3, widths[0], kernelSize: 3, padding: .symmetric(1, 1), bias: false, seed: seed)
            maxpool = nil
        } else {
            conv1 = Conv2d(3, widths[0], kernelSize: 7, stride: 2, padding: .symmetric(3, 3), bias: false, seed: seed)
            maxpool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        }
        bn1 = BatchNorm2d(widths[0])
        let expansion = block == .basic ? BasicBlock.expansion : Bottleneck.expansion
        var input = widths[0]
        var stages: [Sequential] = []
        for (i, (count, planes)) in zip(layerCounts, widths).enumerated() {
            var blocks: [Module] = []
            for j in 0..<count {
                let stride = j == 0 && i > 0 ? 2 : 1
                let s = seed &+ UInt64(100 * (i + 1) + 10 * j)
                blocks.append(block == .basic ? BasicBlock(input, planes, stride: stride, seed: s)
                                              : Bottleneck(input, planes, stride: stride, seed: s))
                input = planes * expansion
            }
            stages.append(Sequential(blocks))
        }
        layers = stages
        fc = Linear(input, classCount, seed: seed &+ 9999)
        super.init()
    }

    public override var namedChildren: [(String, Module)] {
        var c: [(String, Module)] = [("conv1", conv1), ("bn1", bn1), ("relu", relu)]
        if let maxpool { c.append(("maxpool", maxpool)) }
        c += layers.enumerated().map { ("layer\($0.offset + 1)", $0.element as Module) }
        return c + [("avgpool", avgpool), ("fc", fc)]
    }

    public override func forward(_ x: Tensor) -> Tensor {
        var h = relu(bn1(conv1(x)))
        if let maxpool { h = maxpool(h) }
        for stage in layers { h = stage(h) }
        return fc(avgpool(h).flattened())
    }

    public var trunk: [String] {
        ["conv1", "bn1", "relu"] + (maxpool == nil ? [] : ["maxpool"])
            + layers.indices.map { "layer\($0 + 1)" } + ["avgpool", "fc"]
    }

    public static func resnet18(classCount: Int = 1000, seed: UInt64 = 0) -> ResNet {
        ResNet(block: .basic, layerCounts: [2, 2, 2, 2], classCount: classCount, seed: seed)
    }

    public static func resnet50(classCount: Int = 1000, seed: UInt64 = 0) -> ResNet {
        ResNet(block: .bottleneck, layerCounts: [3, 4, 6, 3], classCount: classCount, seed: seed)
    }

    /// The ROAR paper's CIFAR ResNet-8: 3×3 stem, one basic block in each of three stages of 64,
    /// 128 and 256 channels, 1,227,594 parameters for 10 classes.
    public static func resnet8(classCount: Int = 10, seed: UInt64 = 0) -> ResNet {
        ResNet(block: .basic, layerCounts: [1, 1, 1], widths: [64, 128, 256], classCount: classCount,
               cifarStem: true, seed: seed)
    }
}
