/// Pooling layers: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d`, with PyTorch's arguments.

public final class MaxPool2d: Module {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    public let ceilMode: Bool

    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                dilation: (Int, Int) = (1, 1), ceilMode: Bool = false) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        super.init()
    }

    /// Square window; `stride` defaults to the kernel size, as in PyTorch.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1,
                            ceilMode: Bool = false) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) },
                  padding: (padding, padding), dilation: (dilation, dilation), ceilMode: ceilMode)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        maxPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }

    public override var extraDescription: String {
        "kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)" + (ceilMode ? ", ceilMode: true" : "")
    }
}

public final class AvgPool2d: Module {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public let ceilMode: Bool, countIncludePad: Bool

    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        super.init()
    }

    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false,
                            countIncludePad: Bool = true) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding),
                  ceilMode: ceilMode, countIncludePad: countIncludePad)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        avgPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                  countIncludePad: countIncludePad)
    }

    public override var extraDescription: String {
        "kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
    }
}

/// Averages each channel over PyTorch's adaptive bins to a fixed output size (`AdaptiveAvgPool2d(1)`
/// is global average pooling).
public final class AdaptiveAvgPool2d: Module {
    public let outputSize: (Int, Int)
    public init(_ outputSize: (Int, Int)) { self.outputSize = outputSize; super.init() }
    public convenience init(_ size: Int) { self.init((size, size)) }
    public override func forward(_ x: Tensor) -> Tensor { adaptiveAvgPool2d(x, outputSize: outputSize) }
    public override var extraDescription: String { "outputSize: \(outputSize)" }
}
