import NNRuntime

/// Computes attribution maps of a classifier for a batch of images, in the shape of captum's
/// `Attribution(model).attribute(x, target=…)`: one value configured with the model, the method and
/// its options, and one verb.
///
/// ```swift
/// let ig = try Attributor(model: loaded.module, method: .integratedGradients, input: loaded.input)
/// let (maps, targets) = try ig.attribute(x)        // x normalised [N, C, H, W]; maps [N, C, H, W]
/// ```
///
/// Every method explains the *logit* of a target class per image — the predicted class unless
/// targets are given, as in both ROAR implementations (METHODS.md §4.1). Images are independent
/// (the model must be in evaluation mode), so a batch is differentiated in one backward pass seeded
/// with the one-hot targets, and large batches are split into chunks of ``chunkSize(for:)`` images
/// only to bound the memory the tape holds.
public struct Attributor {
    public let model: Module
    public let method: AttributionMethod
    public let options: AttributionOptions
    /// The model's default GradCAM layer (the zoo's `gradCAMLayer`), used when the options name none.
    public let gradCAMLayer: String?
    /// The model's input normalisation, needed by the black baseline only.
    public let input: InputSpec?

    /// - Throws: ``AttributionError`` when the options do not fit the method (too few steps or
    ///   samples, a base that cannot be wrapped, a black baseline without the input description).
    public init(model: Module, method: AttributionMethod, options: AttributionOptions = AttributionOptions(),
                gradCAMLayer: String? = nil, input: InputSpec? = nil) throws {
        (self.model, self.method, self.options, self.gradCAMLayer, self.input) = (model, method, options, gradCAMLayer, input)
        try validate()
    }

    private func validate() throws {
        let uses = method.isNoiseTunnel ? options.base : method
        if method.isNoiseTunnel {
            guard options.base.canBeBase else {
                throw AttributionError("\(method.rawValue): base '\(options.base.rawValue)' cannot be wrapped; use saliency, input-x-gradient, integrated-gradients, guided-backprop or gradcam")
            }
            guard options.samples >= 1 else { throw AttributionError("\(method.rawValue): samples must be at least 1 (got \(options.samples))") }
            guard options.noiseLevel >= 0, options.noiseLevel.isFinite else {
                throw AttributionError("\(method.rawValue): noise level must be a non-negative number (got \(options.noiseLevel))")
            }
        }
        if uses == .integratedGradients {
            let least = options.integration == .gaussLegendre ? 1 : 2
            guard options.steps >= least else {
                throw AttributionError("integrated-gradients: \(options.integration.rawValue) needs at least \(least) steps (got \(options.steps))")
            }
            if case .black = options.baseline, input == nil {
                throw AttributionError("integrated-gradients: the black baseline needs the model's input normalisation")
            }
        }
        if let b = options.internalBatchSize, b < 1 {
            throw AttributionError("internal batch size must be at least 1 (got \(b))")
        }
    }

    /// Attribution maps for `x` (normalised, `[N, C, H, W]`) and the classes they explain.
    ///
    /// - Parameter targets: one class per image; nil explains each image's predicted class.
    /// - Returns: maps of `x`'s shape (`[N, 1, H, W]` for GradCAM) and the targets used.
    public func attribute(_ x: Tensor, targets: [Int]? = nil) throws -> (maps: Tensor, targets: [Int]) {
        guard x.rank == 4, x.shape[0] > 0 else {
            throw AttributionError("\(method.rawValue): expected a non-empty [N, C, H, W] batch, got shape \(x.shape)")
        }
        let x = x.detached()
        let classes = try targets.map { try checked($0, for: x) } ?? predictions(x)
        if method.isControl { return (method == .random ? randomScores(like: x) : sobel(x), classes) }
        if method.isNoiseTunnel { return (try noiseTunnel(x, targets: classes), classes) }
        return (try base(method, x, targets: classes), classes)
    }

    /// One non-ensemble, model-based method on a batch whose targets are known.
    func base(_ m: AttributionMethod, _ x: Tensor, targets: [Int], baseline: Tensor? = nil) throws -> Tensor {
        switch m {
        case .saliency:
            let g = try inputGradients(x, targets: targets)
            return options.abs ? g.abs() : g
        case .inputXGradient: return try inputGradients(x, targets: targets) * x
        case .guidedBackprop: return try inputGradients(x, targets: targets, rules: BackwardRule.guidedBackprop)
        case .integratedGradients: return try integratedGradients(x, targets: targets, baseline: baseline ?? baselineTensor(for: x))
        case .gradCAM: return try gradCAM(x, targets: targets)
        default: throw AttributionError("\(m.rawValue) is not a base attribution method")
        }
    }

    // MARK: - Targets

    /// Each image's predicted class (argmax of the logits), from a forward pass without a tape.
    public func predictions(_ x: Tensor) throws -> [Int] {
        var out: [Int] = []
        for (start, end) in chunks(x.shape[0], chunkSize(for: x)) {
            let logits = withoutGradients { model(x.slice(axis: 0, start: start, end: end)) }
            try checkLogits(logits, count: end - start)
            out += logits.argmax(axis: 1)
        }
        return out
    }

    private func checked(_ targets: [Int], for x: Tensor) throws -> [Int] {
        let n = x.shape[0]
        if targets.count == 1 && n > 1 { return Array(repeating: targets[0], count: n) }
        guard targets.count == n else {
            throw AttributionError("\(targets.count) targets for a batch of \(n) images; give one per image or one for all")
        }
        if let bad = targets.first(where: { $0 < 0 }) { throw AttributionError("target class \(bad) is negative") }
        return targets
    }

    private func checkLogits(_ logits: Tensor, count: Int) throws {
        guard logits.rank == 2, logits.shape[0] == count else {
            throw AttributionError("the model's output has shape \(logits.shape); attribution needs logits [N, classes]")
        }
    }

    // MARK: - Gradients

    /// Images per pass: ``AttributionOptions/internalBatchSize``, or as many as hold about as many
    /// input values as 16 images at 3×224×224 — the tape's memory grows with the activations, which
    /// scale with the input size for the convolutional models of the zoo.
    public func chunkSize(for x: Tensor) -> Int {
        if let b = options.internalBatchSize { return b }
        let perImage = Swift.max(1, x.count / Swift.max(1, x.shape[0]))
        return Swift.max(1, 16 * 3 * 224 * 224 / perImage)
    }

    /// The gradient of each image's target logit with respect to the image, `x`'s shape.
    func inputGradients(_ x: Tensor, targets: [Int], rules: [BackwardRule] = []) throws -> Tensor {
        var parts: [Tensor] = []
        for (start, end) in chunks(x.shape[0], chunkSize(for: x)) {
            let xc = x.slice(axis: 0, start: start, end: end)
            parts.append(try targetGradient(xc, targets: Array(targets[start..<end]), rules: rules).input)
        }
        return parts.count == 1 ? parts[0] : concat(parts, axis: 0)
    }

    /// One forward and one backward pass of a chunk: Σᵢ logits[i, targets[i]] differentiated with
    /// respect to the input and, when `layer` is given, to that layer's output.
    func targetGradient(_ x: Tensor, targets: [Int], rules: [BackwardRule] = [],
                        layer: String? = nil) throws -> (input: Tensor, layer: (value: Tensor, gradient: Tensor)?) {
        let tape = GradientTape(rules: rules)
        let xs = tape.watch(x)
        var captured: Tensor?
        let logits = tape.record { () -> Tensor in
            guard let layer else { return model(xs) }
            let (y, acts) = capturingActivations([layer]) { model(xs) }
            captured = acts[layer]
            return y
        }
        try checkLogits(logits, count: x.shape[0])
        let classes = logits.shape[1]
        if let bad = targets.first(where: { $0 >= classes }) {
            throw AttributionError("target class \(bad) is outside the model's \(classes) classes")
        }
        if let layer, captured == nil { throw AttributionError("gradcam: layer \(layer) was not called in the forward pass") }
        let seed = Tensor(shape: logits.shape) { s in
            s.initialize(repeating: 0)
            for (i, t) in targets.enumerated() { s[i * classes + t] = 1 }
        }
        guard logits.requiresGradient else { return (Tensor.zeros(x.shape), captured.map { ($0.detached(), Tensor.zeros($0.shape)) }) }
        let grads = tape.gradient(of: logits, seed: seed)
        let layerPart = captured.map { ($0.detached(), grads[$0] ?? Tensor.zeros($0.shape)) }
        return (grads[xs] ?? Tensor.zeros(x.shape), layerPart)
    }
}

/// `[start, end)` ranges of at most `size` covering `0..<count`.
func chunks(_ count: Int, _ size: Int) -> [(Int, Int)] {
    stride(from: 0, to: count, by: Swift.max(1, size)).map { ($0, Swift.min($0 + Swift.max(1, size), count)) }
}
