/// Composition modules: `Sequential`, `Identity`, `Flatten` and `Residual`.

/// Calls its children in order; they are named `"0"`, `"1"`, … as in PyTorch, so a torchvision
/// `features.18` is child `18` of the `features` sequential.
///
/// ```swift
/// let block = Sequential(Conv2d(3, 16, kernelSize: 3), BatchNorm2d(16), ReLU())
/// let block2 = Sequential { Linear(4, 8); ReLU(); Linear(8, 2) }
/// ```
public final class Sequential: Module {
    public let layers: [Module]

    public init(_ layers: [Module]) {
        self.layers = layers
        super.init()
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    public convenience init(@SequentialBuilder _ build: () -> [Module]) { self.init(build()) }

    public override var namedChildren: [(String, Module)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }

    /// The `i`-th layer.
    public subscript(_ i: Int) -> Module { layers[i] }
    public var count: Int { layers.count }
}

/// Builds the layer list of a ``Sequential`` from a block of module expressions.
@resultBuilder
public enum SequentialBuilder {
    public static func buildExpression(_ m: Module) -> [Module] { [m] }
    public static func buildBlock(_ parts: [Module]...) -> [Module] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Module]?) -> [Module] { part ?? [] }
    public static func buildEither(first: [Module]) -> [Module] { first }
    public static func buildEither(second: [Module]) -> [Module] { second }
    public static func buildArray(_ parts: [[Module]]) -> [Module] { parts.flatMap { $0 } }
}

/// Returns its input (a placeholder layer, as `nn.Identity`).
public final class Identity: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x }
}

/// Flattens axes `startAxis...endAxis` (default: all but the batch axis), as `nn.Flatten`.
public final class Flatten: Module {
    public let startAxis: Int, endAxis: Int
    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
        super.init()
    }
    public override func forward(_ x: Tensor) -> Tensor { x.flattened(startAxis: startAxis, endAxis: endAxis) }
    public override var extraDescription: String { "startAxis: \(startAxis), endAxis: \(endAxis)" }
}

/// `body(x) + shortcut(x)` (the shortcut defaults to the identity): the residual connection of
/// ResNet-style blocks. An optional `activation` runs after the sum, as in torchvision's blocks.
public final class Residual: Module {
    public let body: Module
    public let shortcut: Module?
    public let activation: Module?

    public init(_ body: Module, shortcut: Module? = nil, activation: Module? = nil) {
        self.body = body
        self.shortcut = shortcut
        self.activation = activation
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let sum = body(x) + (shortcut?(x) ?? x)
        return activation?(sum) ?? sum
    }
}
