/// EfficientNet-Lite0 (Tan & Le, ICML 2019, "EfficientNet: Rethinking Model Scaling for
/// Convolutional Neural Networks"; the Lite variants drop squeeze-excitation and use ReLU6), with the
/// module names of the `efficientnet-lite-pytorch` package (`_conv_stem`, `_blocks.N._depthwise_conv`,
/// `_fc`) so the converted TensorFlow checkpoint loads unchanged.
///
/// The TensorFlow "SAME" padding is fixed at construction for the 224×224 input size, as that
/// package's `Conv2dStaticSamePadding` does, so outputs match it for every input size.

/// TF-style convolution: bias-free, padding resolved as "SAME" for a fixed input size.
private func sameConv(_ input: Int, _ output: Int, kernelSize: Int, stride: Int = 1, groups: Int = 1,
                      imageSize: (Int, Int), seed: UInt64) -> Conv2d {
    let p = Padding2d.same.resolve(inputHeight: imageSize.0, inputWidth: imageSize.1,
                                   kernel: (kernelSize, kernelSize), stride: (stride, stride), dilation: (1, 1))
    return Conv2d(input, output, kernelSize: kernelSize, stride: stride,
                  padding: .explicit(top: p.top, bottom: p.bottom, left: p.left, right: p.right),
                  groups: groups, bias: false, seed: seed)
}

/// The mobile inverted bottleneck block (MBConv) without squeeze-excitation.
public final class MBConvBlock: Module {
    let expandConv: Conv2d?, bn0: BatchNorm2d?
    let depthwiseConv: Conv2d, bn1: BatchNorm2d
    let projectConv: Conv2d, bn2: BatchNorm2d
    let swish = ReLU6()
    let useSkip: Bool
    /// Stochastic depth in training (the package's `drop_connect`), 0 in evaluation.
    let dropConnectRate: Float
    private var generator: SeededGenerator

    init(input: Int, output: Int, kernelSize: Int, stride: Int, expandRatio: Int, imageSize: (Int, Int),
         dropConnectRate: Float, seed: UInt64) {
        let hidden = input * expandRatio
        let eps: Float = 1e-3, momentum: Float = 0.01   // TF's decay 0.99
        if expandRatio != 1 {
            expandConv = sameConv(input, hidden, kernelSize: 1, imageSize: imageSize, seed: seed)
            bn0 = BatchNorm2d(hidden, eps: eps, momentum: momentum)
        } else {
            expandConv = nil
            bn0 = nil
        }
        depthwiseConv = sameConv(hidden, hidden, kernelSize: kernelSize, stride: stride, groups: hidden,
                                 imageSize: imageSize, seed: seed &+ 1)
        bn1 = BatchNorm2d(hidden, eps: eps, momentum: momentum)
        let outSize = ((imageSize.0 + stride - 1) / stride, (imageSize.1 + stride - 1) / stride)
        projectConv = sameConv(hidden, output, kernelSize: 1, imageSize: outSize, seed: seed &+ 2)
        bn2 = BatchNorm2d(output, eps: eps, momentum: momentum)
        useSkip = stride == 1 && input == output
        self.dropConnectRate = dropConnectRate
        generator = SeededGenerator(seed: seed &+ 3)
        super.init()
    }

    public override var namedChildren: [(String, Module)] {
        var c: [(String, Module)] = []
        if let expandConv, let bn0 { c += [("_expand_conv", expandConv), ("_bn0", bn0)] }
        c += [("_depthwise_conv", depthwiseConv), ("_bn1", bn1), ("_project_conv", projectConv), ("_bn2", bn2),
              ("_swish", swish)]
        return c
    }

    public override func forward(_ inputs: Tensor) -> Tensor {
        var x = inputs
        if let expandConv, let bn0 { x = swish(bn0(expandConv(x))) }
        x = swish(bn1(depthwiseConv(x)))
        x = bn2(projectConv(x))
        guard useSkip else { return x }
        if isTraining && dropConnectRate > 0 {
            // Keep each sample's branch with probability 1 − rate, rescaled (stochastic depth).
            let keep = 1 - dropConnectRate
            let mask = Tensor(shape: [x.shape[0], 1, 1, 1]) { m in
                for i in m.indices { m[i] = (keep + generator.nextUniform()).rounded(.down) / keep }
            }
            x = x * mask
        }
        return x + inputs
    }
}

/// EfficientNet-Lite0 for 224×224 RGB input scaled as (x·255 − 127)/128.
public final class EfficientNetLite0: Module, TrunkModel {
    let convStem: Conv2d, bn0: BatchNorm2d
    public let blocks: [MBConvBlock]
    let convHead: Conv2d, bn1: BatchNorm2d
    let avgPooling = AdaptiveAvgPool2d(1)
    let dropout: Dropout
    let fc: Linear
    let swish = ReLU6()

    public init(classCount: Int = 1000, imageSize: Int = 224, dropout rate: Float = 0.2,
                dropConnectRate: Float = 0.2, seed: UInt64 = 0) {
        let eps: Float = 1e-3, momentum: Float = 0.01
        var size = (imageSize, imageSize)
        convStem = sameConv(3, 32, kernelSize: 3, stride: 2, imageSize: size, seed: seed)
        bn0 = BatchNorm2d(32, eps: eps, momentum: momentum)
        size = ((size.0 + 1) / 2, (size.1 + 1) / 2)
        // (repeats, kernel, stride, expansion, input, output) of EfficientNet-Lite0.
        let stages = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
                      (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
        let total = stages.reduce(0) { $0 + $1.0 }
        var blocks: [MBConvBlock] = []
        for (repeats, k, s, e, input, output) in stages {
            for r in 0..<repeats {
                let stride = r == 0 ? s : 1
                blocks.append(MBConvBlock(input: r == 0 ? input : output, output: output, kernelSize: k, stride: stride,
                                          expandRatio: e, imageSize: size,
                                          dropConnectRate: dropConnectRate * Float(blocks.count) / Float(total),
                                          seed: seed &+ UInt64(blocks.count + 1) &* 8))
                size = ((size.0 + stride - 1) / stride, (size.1 + stride - 1) / stride)
            }
        }
        self.blocks = blocks
        convHead = sameConv(320, 1280, kernelSize: 1, imageSize: size, seed: seed &+ 500)
        bn1 = BatchNorm2d(1280, eps: eps, momentum: momentum)
        self.dropout = Dropout(probability: rate, seed: seed)
        fc = Linear(1280, classCount, seed: seed &+ 501)
        super.init()
    }

    public override var namedChildren: [(String, Module)] {
        [("_conv_stem", convStem), ("_bn0", bn0)]
            + blocks.enumerated().map { ("_blocks.\($0.offset)", $0.element as Module) }
            + [("_conv_head", convHead), ("_bn1", bn1), ("_avg_pooling", avgPooling), ("_dropout", dropout),
               ("_fc", fc), ("_swish", swish)]
    }

    public override func forward(_ inputs: Tensor) -> Tensor {
        var x = swish(bn0(convStem(inputs)))
        for block in blocks { x = block(x) }
        x = swish(bn1(convHead(x)))
        return fc(dropout(avgPooling(x).flattened()))
    }

    public var trunk: [String] {
        ["_conv_stem", "_bn0"] + blocks.indices.map { "_blocks.\($0)" } + ["_conv_head", "_bn1", "_avg_pooling", "_fc"]
    }
}
