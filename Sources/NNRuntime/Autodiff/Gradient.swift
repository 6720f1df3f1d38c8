/// Convenience entry points in the shape of MLX and candle: differentiate a closure with respect to
/// its input, or a loss with respect to a module's parameters.

/// The value of `f(x)` and its gradient with respect to `x`; `f` must return one element.
public func valueWithGradient(at x: Tensor, in f: (Tensor) throws -> Tensor) rethrows -> (value: Tensor, gradient: Tensor) {
    let tape = GradientTape()
    let xs = tape.watch(x)
    let y = try tape.record { try f(xs) }
    guard isTraced(y, on: tape) else { return (y, Tensor.zeros(x.shape)) }
    return (y.detached(), tape.gradient(of: y)[xs]!)
}

/// The gradient of `f` at `x`; `f` must return one element.
public func gradient(at x: Tensor, in f: (Tensor) throws -> Tensor) rethrows -> Tensor {
    try valueWithGradient(at: x, in: f).gradient
}

/// The value of `f(x, y)` and its gradients with respect to both arguments.
public func valueWithGradient(at x: Tensor, _ y: Tensor,
                              in f: (Tensor, Tensor) throws -> Tensor) rethrows -> (value: Tensor, gradient: (Tensor, Tensor)) {
    let tape = GradientTape()
    let xs = tape.watch(x), ys = tape.watch(y)
    let out = try tape.record { try f(xs, ys) }
    guard isTraced(out, on: tape) else { return (out, (Tensor.zeros(x.shape), Tensor.zeros(y.shape))) }
    let g = tape.gradient(of: out)
    return (out.detached(), (g[xs]!, g[ys]!))
}

/// The gradients of a scalar loss with respect to every trainable parameter of a module, keyed by
/// the parameter's state-dict path.
public struct ParameterGradients {
    /// `(path, gradient)` in the module's parameter order.
    public let named: [(String, Tensor)]
    /// `(parameter, gradient)` in the module's parameter order, for optimisers.
    public let pairs: [(Parameter, Tensor)]
    private let byObject: [ObjectIdentifier: Tensor]

    init(module: Module, gradients: Gradients) {
        var named: [(String, Tensor)] = []
        var pairs: [(Parameter, Tensor)] = []
        var byObject: [ObjectIdentifier: Tensor] = [:]
        for (path, p) in module.namedParameters() where p.requiresGradient {
            guard let g = gradients[p] else { continue }
            named.append((path, g))
            pairs.append((p, g))
            byObject[ObjectIdentifier(p)] = g
        }
        self.named = named
        self.pairs = pairs
        self.byObject = byObject
    }

    /// Gradient by state-dict path, e.g. `"features.0.weight"`.
    public subscript(path: String) -> Tensor? { named.first { $0.0 == path }?.1 }
    /// Gradient of a parameter object.
    public subscript(parameter: Parameter) -> Tensor? { byObject[ObjectIdentifier(parameter)] }

    /// The global L2 norm over all gradients.
    public var globalNorm: Float {
        var total: Double = 0
        for (_, g) in pairs { g.withUnsafeBufferPointer { for v in $0 { total += Double(v) * Double(v) } } }
        return Float(total.squareRoot())
    }

    /// Gradients scaled so their global norm is at most `maxNorm` (PyTorch `clip_grad_norm_`,
    /// which scales by `maxNorm / (norm + 1e-6)` when the norm exceeds it).
    public func clipped(maxNorm: Float) -> ParameterGradients {
        let norm = globalNorm
        let scale = maxNorm / (norm + 1e-6)
        guard scale < 1 else { return self }
        return ParameterGradients(pairs: pairs.map { ($0.0, $0.1 * scale) }, named: named.map { ($0.0, $0.1 * scale) })
    }

    /// Gradients whose every slice along axis 0 is clipped to L2 norm `maxNorm` on its own, with
    /// `clip_grad_norm_`'s rule. When a parameter holds a batch of independent problems (one image per
    /// slice, as DORA's s-AMS), this equals clipping each problem's gradient separately.
    public func clippedPerSample(maxNorm: Float) -> ParameterGradients {
        func clip(_ g: Tensor) -> Tensor {
            guard g.rank >= 1, g.shape[0] > 0 else { return g }
            var out = g
            let per = g.count / g.shape[0]
            out.withUnsafeMutableBufferPointer { b in
                for s in 0..<g.shape[0] {
                    var total: Double = 0
                    for i in s * per..<(s + 1) * per { total += Double(b[i]) * Double(b[i]) }
                    let scale = maxNorm / (Float(total.squareRoot()) + 1e-6)
                    if scale < 1 { for i in s * per..<(s + 1) * per { b[i] *= scale } }
                }
            }
            return out
        }
        let clipped = pairs.map { ($0.0, clip($0.1)) }
        return ParameterGradients(pairs: clipped, named: zip(named, clipped).map { ($0.0.0, $0.1.1) })
    }

    init(pairs: [(Parameter, Tensor)], named: [(String, Tensor)]) {
        self.pairs = pairs
        self.named = named
        self.byObject = Dictionary(uniqueKeysWithValues: pairs.map { (ObjectIdentifier($0.0), $0.1) })
    }
}

/// The value of `loss(model)` and its gradients with respect to the model's trainable parameters.
///
/// ```swift
/// let (loss, grads) = valueAndGradient(of: model) { m in crossEntropy(m(x), labels: y) }
/// ```
public func valueAndGradient<M: Module>(of model: M, _ loss: (M) throws -> Tensor) rethrows -> (value: Tensor, gradients: ParameterGradients) {
    let tape = GradientTape()
    tape.watch(model)
    let y = try tape.record { try loss(model) }
    let g = isTraced(y, on: tape) ? tape.gradient(of: y) : .none(tape: tape)
    return (y.detached(), ParameterGradients(module: model, gradients: g))
}
