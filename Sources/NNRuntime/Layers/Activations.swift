/// Activation and regularisation layers. Each is a module of its own type so that backward rules
/// can target it (guided backprop replaces `ReLU`'s and `ReLU6`'s backward).

public final class ReLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { relu(x) }
}

public final class ReLU6: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { relu6(x) }
}

public final class LeakyReLU: Module {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { leakyReLU(x, negativeSlope: negativeSlope) }
    public override var extraDescription: String { "negativeSlope: \(negativeSlope)" }
}

public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { sigmoid(x) }
}

public final class Tanh: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { tanh(x) }
}

public final class Softmax: Module {
    public let axis: Int
    public init(axis: Int = 1) { self.axis = axis; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { softmax(x, axis: axis) }
    public override var extraDescription: String { "axis: \(axis)" }
}

/// Inverted dropout in training mode, the identity in evaluation. Masks come from a seeded generator
/// owned by the layer, so a training run is reproducible.
public final class Dropout: Module {
    public let probability: Float
    private var generator: SeededGenerator

    public init(probability: Float = 0.5, seed: UInt64 = 0) {
        precondition((0...1).contains(probability), "Dropout: probability \(probability) is outside [0, 1]")
        self.probability = probability
        generator = SeededGenerator(seed: seed)
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        dropout(x, probability: probability, training: isTraining, generator: &generator)
    }

    public override var extraDescription: String { "p: \(probability)" }
}
