/// A fully connected layer `y = x·Wᵀ + b` with PyTorch's `[out, in]` weight, initialised as
/// `nn.Linear` (uniform in ±1/√in for both weight and bias).
///
/// ```swift
/// let fc = Linear(512, 10)          // weight [10, 512], bias [10]
/// let logits = fc(features)         // [N, 512] -> [N, 10]
/// ```
public final class Linear: Module {
    public let inputFeatures: Int, outputFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true, seed: UInt64 = 0) {
        precondition(inputFeatures > 0 && outputFeatures > 0, "Linear: feature counts must be positive")
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        var gen = SeededGenerator(seed: seed)
        weight = Parameter(.kaimingUniform([outputFeatures, inputFeatures], fanIn: inputFeatures, using: &gen))
        self.bias = bias ? Parameter(.kaimingUniform([outputFeatures], fanIn: inputFeatures, using: &gen)) : nil
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        if x.rank == 2 { return linear(x, weight: weight.value, bias: bias?.value) }
        // Any leading shape: fold into a batch, as nn.Linear does.
        let lead = Array(x.shape.dropLast())
        let y = linear(x.reshaped([-1, inputFeatures]), weight: weight.value, bias: bias?.value)
        return y.reshaped(lead + [outputFeatures])
    }

    public override var extraDescription: String {
        "inFeatures: \(inputFeatures), outFeatures: \(outputFeatures), bias: \(bias != nil)"
    }
}
