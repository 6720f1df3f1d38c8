import NNRuntime

/// Where RDR reads a zoo model: the feature layer h (a trunk stage) and the configuration layer whose
/// on/off pattern defines the relaxed decision regions.
///
/// The reference code (METHODS.md §3.2) binarises the linear layer right after the feature layer and
/// requires a ReLU after it; the bit is 1[z > 0]. Here the configuration is read at that activation:
/// the first ReLU-family module whose call completes after the feature stage's call, in one forward
/// pass. For ReLU, ReLU6, LeakyReLU (and SiLU, GELU, Hardswish, ELU, Mish) output > 0 exactly when
/// the pre-activation is > 0, so `output > 0` is the reference's bit, and the same rule finds the
/// right module in every zoo architecture without a per-model table:
///
/// - VGG19, trunk index 27 (`features.27`, pool4): conv5_1's ReLU `features.29` — the paper's layer;
/// - ResNet, a stage `layerN`: the first ReLU of the next stage's first block, `layer(N+1).0.relu@1`
///   (torchvision's blocks call one `relu` module twice);
/// - MobileNetV2, `features.N`: the expansion conv's ReLU6 of the next block, `features.(N+1).conv.0.2`.
///
/// Each hyperplane w_j·h + b_j of the paper is then one unit (channel, y, x) of that activation.
/// Citation: Chang, Kwon, Choi, AAAI 2024, arXiv 2312.17285.
public struct ConfigurationLayer: Sendable {
    /// The feature layer h: the output of the chosen trunk stage.
    public let feature: LayerPath
    /// The activation whose on/off pattern is the configuration.
    public let configuration: LayerPath
    /// The activation's module type (`"ReLU"`, `"ReLU6"`).
    public let configurationType: String
    /// Shape of the feature for a single input, `[1, C, H, W]` or `[1, D]`.
    public let featureShape: [Int]
    /// Shape of one instance's configuration: `[C, H, W]` or `[D]`.
    public let unitShape: [Int]
    /// Number of units (bits) per instance: the product of ``unitShape``.
    public var units: Int

    /// Module types whose output is > 0 exactly where their input is > 0.
    public static let activationTypes: Set<String> = ["ReLU", "ReLU6", "LeakyReLU", "SiLU", "GELU", "Hardswish",
                                                      "ELU", "CELU", "SELU", "Mish"]

    /// Resolves trunk stage `index` of `model` by one forward pass of a blank `[1, C, H, W]` input of
    /// `input`'s size, logging the order in which module calls complete. The model runs in
    /// evaluation mode (modes are restored afterwards, so BatchNorm statistics are never touched).
    ///
    /// - Throws: ``RDRError`` when `index` is outside the trunk, when no ReLU-family activation runs
    ///   after the stage (the last stages), or when the activation's output is not `[1, C, H, W]` or `[1, D]`.
    public static func resolve(model: Module, trunk: [String], index: Int, input: InputSpec) throws -> ConfigurationLayer {
        guard !trunk.isEmpty else { throw RDRError("the model declares no trunk stages to index") }
        guard trunk.indices.contains(index) else {
            throw RDRError("layer index \(index) is outside the trunk 0...\(trunk.count - 1) (\(trunk[0]) … \(trunk[trunk.count - 1]))")
        }
        let stage = trunk[index]
        let capture = withEvaluationMode(model) {
            withoutGradients {
                capturingAllActivations { model(.zeros([1, input.channels, input.height, input.width])) }.1
            }
        }
        let log = capture.calls
        let count = capture.callCount(stage)
        guard count > 0, let end = log.lastIndex(where: { $0.path == stage }), let h = capture[stage] else {
            throw RDRError("trunk stage \(index) ('\(stage)') is not called by the model's forward pass")
        }
        guard let next = log[(end + 1)...].first(where: { activationTypes.contains($0.typeName) }) else {
            let hint = lastUsableIndex(trunk, log).map { "choose an index in 0...\($0) of the trunk 0...\(trunk.count - 1)" }
                ?? "the model has no ReLU-family activation"
            throw RDRError("no ReLU-family activation runs after trunk stage \(index) ('\(stage)'), so it has no configuration layer; \(hint)")
        }
        let configuration = LayerPath(path: next.path, call: capture.callCount(next.path) > 1 ? next.call : nil)
        let shape = capture[configuration.captureName]!.shape
        guard shape.first == 1, shape.count == 2 || shape.count == 4 else {
            throw RDRError("configuration layer \(configuration) (after trunk stage \(index) '\(stage)') outputs shape \(shape); RDR takes [B, C, H, W] or [B, D]")
        }
        return ConfigurationLayer(feature: LayerPath(path: stage, call: count > 1 ? count : nil),
                                  configuration: configuration, configurationType: next.typeName,
                                  featureShape: h.shape, unitShape: Array(shape.dropFirst()),
                                  units: shape.dropFirst().reduce(1, *))
    }

    /// The largest trunk index that an activation follows, for error messages.
    private static func lastUsableIndex(_ trunk: [String], _ log: [(path: String, call: Int, typeName: String)]) -> Int? {
        guard let lastActivation = log.lastIndex(where: { activationTypes.contains($0.typeName) }) else { return nil }
        return trunk.indices.last { i in
            guard let end = log.lastIndex(where: { $0.path == trunk[i] }) else { return false }
            return end < lastActivation
        }
    }

    /// (channel, y, x) of flat unit `flat` in channel-major order; `(flat, 0, 0)` for a `[D]` layer.
    public func unitPosition(_ flat: Int) -> (channel: Int, y: Int, x: Int) {
        precondition(flat >= 0 && flat < units, "ConfigurationLayer: unit \(flat) out of range 0..<\(units)")
        guard unitShape.count == 3 else { return (flat, 0, 0) }
        let plane = unitShape[1] * unitShape[2]
        return (flat / plane, flat % plane / unitShape[2], flat % unitShape[2])
    }

    /// Runs `batch` through `model` without gradients and returns the feature and configuration-layer
    /// outputs (`[B, …]` each), the two things RDR collects per reference batch.
    public func forward(_ model: Module, _ batch: Tensor) -> (feature: Tensor, configuration: Tensor) {
        let capture = withoutGradients {
            capturingActivations([feature.captureName, configuration.captureName]) { model(batch) }.1
        }
        return (capture[feature.captureName]!, capture[configuration.captureName]!)
    }
}

/// Runs `body` with `model` in evaluation mode, then restores every module's own mode.
func withEvaluationMode<T>(_ model: Module, _ body: () throws -> T) rethrows -> T {
    let modules = model.namedModules().map(\.1)
    let saved = modules.map(\.isTraining)
    guard saved.contains(true) else { return try body() }
    model.eval()
    // Root first, so that each module's train(_:) is corrected by its descendants' later calls.
    defer { for (m, on) in zip(modules, saved) { m.train(on) } }
    return try body()
}
