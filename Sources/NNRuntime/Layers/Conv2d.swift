/// A 2-D convolution layer with PyTorch's OIHW weight `[out, in/groups, kH, kW]` and optional bias,
/// initialised as `nn.Conv2d` (uniform in ±1/√fanIn, fanIn = in/groups·kH·kW).
///
/// ```swift
/// let conv = Conv2d(3, 32, kernelSize: 3, stride: 2, padding: .symmetric(1, 1))
/// let depthwise = Conv2d(32, 32, kernelSize: 3, padding: .same, groups: 32)   // TF SAME
/// ```
public final class Conv2d: Module {
    public let inputChannels: Int, outputChannels: Int
    public let kernelSize: (Int, Int), stride: (Int, Int), dilation: (Int, Int)
    public let padding: Padding2d
    public let groups: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: Padding2d = .zero, dilation: (Int, Int) = (1, 1), groups: Int = 1,
                bias: Bool = true, seed: UInt64 = 0) {
        precondition(inputChannels > 0 && outputChannels > 0, "Conv2d: channel counts must be positive")
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "Conv2d: groups \(groups) must divide both \(inputChannels) input and \(outputChannels) output channels")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let fanIn = inputChannels / groups * kernelSize.0 * kernelSize.1
        var gen = SeededGenerator(seed: seed)
        weight = Parameter(.kaimingUniform([outputChannels, inputChannels / groups, kernelSize.0, kernelSize.1],
                                           fanIn: fanIn, using: &gen))
        self.bias = bias ? Parameter(.kaimingUniform([outputChannels], fanIn: fanIn, using: &gen)) : nil
        super.init()
    }

    /// Square kernel and stride.
    public convenience init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: Padding2d = .zero, dilation: Int = 1, groups: Int = 1,
                            bias: Bool = true, seed: UInt64 = 0) {
        self.init(inputChannels, outputChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: padding, dilation: (dilation, dilation), groups: groups, bias: bias, seed: seed)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding,
               dilation: dilation, groups: groups)
    }

    public override var extraDescription: String {
        var parts = ["\(inputChannels), \(outputChannels)", "kernelSize: \(kernelSize)", "stride: \(stride)"]
        if padding != .zero { parts.append("padding: \(padding)") }
        if dilation != (1, 1) { parts.append("dilation: \(dilation)") }
        if groups != 1 { parts.append("groups: \(groups)") }
        if bias == nil { parts.append("bias: false") }
        return parts.joined(separator: ", ")
    }
}
