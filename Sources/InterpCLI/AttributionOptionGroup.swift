import ArgumentParser
import Foundation
import NNRuntime
import Attribution

/// The attribution flags every command that computes maps shares (`interp attribute`, `perturb`,
/// `roar`): which methods, and the options captum users know.
struct AttributionOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp("Methods, comma-separated: \(AttributionMethod.allCases.map(\.rawValue).joined(separator: ", ")) (aliases ig, sg, sg2).",
                               valueName: "name[,name…]"))
    var attribution: String
    @Option(help: "GradCAM layer (default: the model's; see `interp layers`).") var layer: String?
    @Option(help: "Integrated Gradients steps (default 50).") var steps: Int?
    @Option(help: "Integrated Gradients rule: gausslegendre or riemann-trapezoid.") var integration: Integration?
    @Option(help: "Integrated Gradients baseline: zeros or black (both in normalised space).") var baseline: BaselineChoice = .zeros
    @Option(help: "Noisy samples per image for smoothgrad, smoothgrad-squared and vargrad (default 25).") var samples: Int?
    @Option(help: "Noise σ as a fraction of each image's value range (default 0.15).") var noiseLevel: Float?
    @Flag(help: "Absolute saliency (captum's default) instead of the signed gradient.") var abs = false
    @Option(help: "The method smoothgrad, smoothgrad-squared and vargrad wrap (default saliency).") var base: String?

    enum BaselineChoice: String, ExpressibleByArgument, CaseIterable { case zeros, black }

    /// The methods named by `--attribution`, in order, without repeats.
    func methods() throws -> [AttributionMethod] {
        var out: [AttributionMethod] = []
        for name in attribution.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let m = AttributionMethod(name: name) else {
                throw ValidationError("--attribution: unknown method '\(name)'; choose from \(AttributionMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !out.contains(m) { out.append(m) }
        }
        guard !out.isEmpty else { throw ValidationError("--attribution: name at least one method") }
        return out
    }

    func validate() throws {
        _ = try methods()
        if let base, AttributionMethod(name: base) == nil { throw ValidationError("--base: unknown method '\(base)'") }
    }

    func options(seed: UInt64) -> AttributionOptions {
        var o = AttributionOptions()
        o.abs = abs
        if let steps { o.steps = steps }
        if let integration { o.integration = integration }
        o.baseline = baseline == .black ? .black : .zeros
        if let samples { o.samples = samples }
        if let noiseLevel { o.noiseLevel = noiseLevel }
        if let base, let m = AttributionMethod(name: base) { o.base = m }
        o.layer = layer
        o.seed = seed
        return o
    }

    /// One attributor per method for a loaded model.
    func attributors(for loaded: LoadedModel, seed: UInt64) throws -> [Attributor] {
        let options = options(seed: seed)
        return try methods().map {
            try Attributor(model: loaded.module, method: $0, options: options, gradCAMLayer: loaded.gradCAMLayer, input: loaded.input)
        }
    }
}
