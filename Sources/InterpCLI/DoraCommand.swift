import ArgumentParser
import Foundation
import NNRuntime
import Analysis
import DoraCore

/// `interp dora`: outlier neurons of a layer from synthetic activation-maximisation signals
/// (Bykov et al., TMLR 2023), with a report to open in a browser.
struct DoraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dora",
        abstract: "Find outlier (often spurious) neurons of a layer from synthetic signals, without data.",
        discussion: """
        Generates s-AMS per neuron, records every analysed neuron's response to every signal, computes \
        Extreme-Activation distances and scores outliers; writes result.json, activations.npy, distances.npy, \
        signals/*.png and report.html to the run folder. Re-running the same command resumes. \
        With --activations A.npy only the analysis runs.
        """
    )

    enum Preset: String, ExpressibleByArgument, CaseIterable { case quick, paper }

    @OptionGroup var modelOptions: OptionalModelOptions
    @Option(help: "The layer: a path, PATH@K, or a trunk index (see `interp layers`).") var layer: String?
    @Option(help: ArgumentHelp("Neurons (channels) to analyse: all, or ids and ranges such as 0-63,100.", valueName: "list")) var neurons: String?
    @Option(help: "Signals per neuron (default 1; paper preset 5).") var signals: Int?
    @Option(help: "Optimisation steps per signal (default 150; quick 64; paper 500).") var iters: Int?
    @Option(help: "AdamW learning rate (honoured, unlike the reference's batched path).") var lr: Float?
    @Option(help: "AdamW decoupled weight decay.") var weightDecay: Float?
    @Option(help: "Signals optimised together.") var batchSize: Int?
    @Option(help: "Signal size in pixels (default: the model's input size; quick 128).") var size: Int?
    @Option(help: "Objective: channel (spatial mean) or neuron (one position).") var objective: DoraObjective?
    @Flag(help: "Optimise minimising signals (the negated objective) instead of maximising ones.") var minimize = false
    @Option(help: "Robustness transforms: dora (final defaults), notebook (the authors' runs) or none.") var transforms: String?
    @Option(help: "EA distance: layerwise or pairwise.") var distance: EADistance.Mode?
    @Option(help: "Outlier detector: lof, pca, iforest or knn.") var detector: OutlierDetector?
    @Option(help: "Share of analysed neurons labelled outliers.") var outliersFraction: Double?
    @Option(help: "Atlas embedding: umap or mds.") var embedding: DoraConfiguration.EmbeddingMethod?
    @Option(help: "quick (a two-minute preview) or paper (the authors' notebook settings).") var preset: Preset?
    @Option(help: "Seed for signal initialisation, transforms and embedding.") var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Analyse a saved activation tensor (k×k or k×k×n .npy, rows = signal owners) instead of generating signals.", valueName: "A.npy"))
    var activations: String?
    @Option(help: ArgumentHelp("Probe every neuron as a detector of a concept on real data: a folder with split sub-folders.", valueName: "dir"))
    var probeData: String?
    @Option(help: "The probe data's split sub-folder.") var probeSplit = "test"
    @Option(help: ArgumentHelp("Concept CSV (image,<concept>,…); default <probe-data>/concepts.csv.", valueName: "file")) var probeConcepts: String?
    @Option(help: "The concept to probe for, e.g. watermark.") var probeConcept: String?
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if activations == nil && (modelOptions.model == nil || layer == nil) {
            throw ValidationError("give --model and --layer, or --activations A.npy for the analysis alone")
        }
        if (probeData == nil) != (probeConcept == nil) { throw ValidationError("--probe-data and --probe-concept go together") }
        if probeData != nil && activations != nil && modelOptions.model == nil {
            throw ValidationError("probing needs --model and --layer to compute activations on the probe data")
        }
        if let transforms, !["dora", "notebook", "none"].contains(transforms) {
            throw ValidationError("--transforms must be dora, notebook or none, not '\(transforms)'")
        }
        if let size, size < 8 { throw ValidationError("--size must be at least 8") }
    }

    /// Preset values first, then explicit flags.
    func resolvedConfiguration(input: InputSpec?) throws -> DoraConfiguration {
        var c = DoraConfiguration()
        var g = c.generation
        g.height = input?.height ?? 224
        g.width = input?.width ?? 224
        switch preset {
        case .quick?: g.iterations = 64; g.height = min(g.height, 128); g.width = min(g.width, 128)
        case .paper?: g.iterations = 500; c.signalsPerNeuron = 5; g.transforms = .notebook
        case nil: break
        }
        if let iters { g.iterations = iters }
        if let lr { g.learningRate = lr }
        if let weightDecay { g.weightDecay = weightDecay }
        if let batchSize { g.batchSize = batchSize }
        if let size { (g.height, g.width) = (size, size) }
        if let objective { g.objective = objective }
        switch transforms {
        case "notebook": g.transforms = .notebook
        case "none": g.transforms = .none
        case "dora": g.transforms = .dora
        default: break
        }
        g.seed = seed
        c.generation = g
        if let signals { c.signalsPerNeuron = signals }
        c.minimize = minimize
        if let distance { c.distance = distance }
        if let detector { c.detector = detector }
        if let outliersFraction { c.outliersFraction = outliersFraction }
        if let embedding { c.embedding = embedding }
        do { try c.validate() } catch let e as DoraError { throw ValidationError(e.description) }
        return c
    }

    /// `all`, or comma-separated ids and `a-b` ranges, each within `0..<channels`.
    static func parseNeurons(_ spec: String?, channels: Int, preset: Preset?) throws -> [Int] {
        let ids = try parseNeuronList(spec ?? (preset == .quick ? "0-\(min(channels, 64) - 1)" : "all"), channels: channels)
        guard ids.count >= 3 else { throw ValidationError("--neurons: DORA compares neurons; give at least 3, got \(ids.count)") }
        return ids
    }

    func run() throws {
        try reportingErrors {
            runOptions.applyThreads()
            let started = Date()
            let (loaded, target) = try modelOptions.load(seed: seed, layer: layer)
            let configuration = try resolvedConfiguration(input: loaded?.input)
            var config: [String: Any] = [
                "model": modelOptions.model as Any? ?? NSNull(), "weights": modelOptions.weights as Any? ?? NSNull(),
                "layer": target?.captureName as Any? ?? NSNull(), "neurons": neurons ?? "default",
                "preset": preset?.rawValue as Any? ?? NSNull(), "activations": activations as Any? ?? NSNull(),
                "probe": probeData.map { ["data": $0, "split": probeSplit, "concepts": probeConcepts as Any? ?? NSNull(), "concept": probeConcept ?? ""] } as Any? ?? NSNull(),
            ]
            config["dora"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration))
            let folder = try RunFolder.open(command: "dora", config: config, options: runOptions)
            let session = DoraSession(command: self, loaded: loaded, target: target, configuration: configuration, folder: folder)
            let outcome = try session.run()
            try outcome.write(to: folder, seconds: Date().timeIntervalSince(started))
            if runOptions.json { print(try jsonText(try outcome.resultJSON())) } else {
                let top = outcome.result.outliers.prefix(10).map(String.init).joined(separator: ", ")
                print("dora: \(outcome.result.neurons.count) neurons of \(outcome.result.layer); outliers (most outlying first): \(top)")
                print("report: \(folder.file("report.html").path)")
            }
        }
    }
}

extension DoraObjective: ExpressibleByArgument {}
extension EADistance.Mode: ExpressibleByArgument {}
extension OutlierDetector: ExpressibleByArgument {}
extension DoraConfiguration.EmbeddingMethod: ExpressibleByArgument {}
