/// A replacement pullback for the tape nodes it matches — the mechanism behind guided backprop and
/// LRP-style rules (zennit's hooks), applied per module type without touching the model.
///
/// Rules are given to a ``GradientTape``; the first matching rule wins over the op's own VJP.
public struct BackwardRule: @unchecked Sendable {
    public let name: String
    public let matches: (NodeContext) -> Bool
    /// Maps the output gradient to one gradient per input of the node.
    public let pullback: (NodeContext, Tensor) -> [Tensor?]

    public init(name: String, matches: @escaping (NodeContext) -> Bool,
                pullback: @escaping (NodeContext, Tensor) -> [Tensor?]) {
        self.name = name
        self.matches = matches
        self.pullback = pullback
    }

    /// Replaces the backward of nodes with op `op` recorded directly by a module of type `moduleType`.
    public init(name: String, op: OpKind, moduleType: String,
                pullback: @escaping (NodeContext, Tensor) -> [Tensor?]) {
        self.init(name: name, matches: { $0.op == op && $0.module?.typeName == moduleType }, pullback: pullback)
    }
}

extension BackwardRule {
    /// Guided backpropagation (Springenberg et al., 2015, "Striving for Simplicity: The All
    /// Convolutional Net"): at each `ReLU` module only positive gradients pass, and only where the
    /// input was positive, i.e. `relu'(x) · max(g, 0)`.
    public static let guidedReLU = BackwardRule(name: "guided-relu", op: .relu, moduleType: "ReLU") { ctx, g in
        [g.clamped(min: 0) * ctx.inputs[0].greaterMask(than: 0)]
    }

    /// The same rule for `ReLU6` modules (MobileNetV2): `relu6'(x) · max(g, 0)` with
    /// `relu6'(x) = 1` for `0 < x < 6`. captum hooks only `nn.ReLU`, which leaves MobileNetV2's
    /// activations unguided; interp guides both.
    public static let guidedReLU6 = BackwardRule(name: "guided-relu6", op: .relu6, moduleType: "ReLU6") { ctx, g in
        let x = ctx.inputs[0]
        return [g.clamped(min: 0) * x.greaterMask(than: 0) * x.lessMask(than: 6)]
    }

    /// Both guided rules, for guided backprop over ReLU and ReLU6 networks.
    public static let guidedBackprop: [BackwardRule] = [guidedReLU, guidedReLU6]
}
