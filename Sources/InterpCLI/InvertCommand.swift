import ArgumentParser
import Foundation
import NNRuntime
import Invert

/// `interp invert`: labels neurons with Boolean concept formulas scored by AUC, with p-values
/// (Bykov et al., NeurIPS 2023), on a labelled dataset; a report to open in a browser.
struct InvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invert",
        abstract: "Label neurons with Boolean concept formulas (AUC, Mann-Whitney p) on labelled data.",
        discussion: """
        Records each neuron's pooled activation on every image of --data, then searches formulas of up to \
        --length literals (AND, OR, NOT over the concepts of --concepts) whose indicator the activation \
        separates best, by beam search. --concepts is a CSV image,<concept>,… of 0/1, an N×m 0/1 .npy in \
        the data's order (the original INVERT layout), or 'classes' for the dataset's own class labels. \
        Writes result.json, activations.npy and report.html to the run folder; re-running resumes. \
        With --activations A.npy (N×k; images in A.images.txt) no model is needed.
        """
    )

    enum Pool: String, ExpressibleByArgument, CaseIterable { case mean, max }

    @OptionGroup var modelOptions: OptionalModelOptions
    @Option(help: "The layer: a path, PATH@K, or a trunk index (see `interp layers`).") var layer: String?
    @Option(help: ArgumentHelp("Labelled images: a folder with splits, an ImageFolder, or a fetched set.", valueName: "path|name")) var data: String?
    @Option(help: ArgumentHelp("Force the dataset format.", valueName: "format")) var dataFormat: DataFormat?
    @Option(help: "The split whose images are labelled: train, val or test.") var split: Split = .test
    @Option(help: ArgumentHelp("Concept labels: a CSV image,<concept>,…, an N×m 0/1 .npy, or 'classes'.", valueName: "file|classes"))
    var concepts: String
    @Option(help: ArgumentHelp("JSON naming and describing each concept column (default: the concept file's .json sidecar).", valueName: "file.json"))
    var descriptions: String?
    @Option(help: ArgumentHelp("Neurons (channels) to label: all, or ids and ranges such as 0-63,100.", valueName: "list")) var neurons: String?
    @Option(help: "Spatial pooling of a channel's map to one activation per image: mean or max.") var pool: Pool = .mean
    @Option(help: "Longest formula, in literals.") var length = 3
    @Option(help: "Beam size: formulas kept per depth (and reported per neuron).") var beam = 3
    @Option(help: "Smallest admissible concept fraction (share of images where the formula holds).") var minFraction = 0.0
    @Option(help: "Largest admissible concept fraction.") var maxFraction = 0.5
    @Option(help: "positive: formulas the neuron fires for (highest AUC); negative: formulas it is silent for (lowest AUC).")
    var mode: InvertMode = .positive
    @Option(help: "Expand only with the N literals of highest differentiability (default: all).") var limitSearch: Int?
    @Flag(help: "Keep the original implementation's duplicate beam entries instead of de-duplicating by mask.") var referenceBeam = false
    @Option(help: ArgumentHelp("Label a saved N×k activation matrix (rows = images, listed in A.images.txt if present) instead of running a model.",
                               valueName: "A.npy"))
    var activations: String?
    @Option(help: "Images per forward pass.") var batchSize = 32
    @Option(help: "Seed (for random-init models).") var seed: UInt64 = 0
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if activations == nil && (modelOptions.model == nil || layer == nil || data == nil) {
            throw ValidationError("give --model, --layer and --data, or --activations A.npy with --concepts")
        }
        if concepts == "classes" && data == nil { throw ValidationError("--concepts classes takes the class labels of --data; give --data") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        do { try resolvedConfiguration().validate() } catch let e as InvertError { throw ValidationError(e.message) }
    }

    func resolvedConfiguration() -> InvertConfiguration {
        var c = InvertConfiguration()
        c.length = length
        c.beamSize = beam
        c.minFraction = minFraction
        c.maxFraction = maxFraction
        c.mode = mode
        c.limitSearch = limitSearch
        c.referenceBeam = referenceBeam
        return c
    }

    func run() throws {
        try reportingErrors {
            runOptions.applyThreads()
            let started = Date()
            let (loaded, target) = try modelOptions.load(seed: seed, layer: layer)
            let configuration = resolvedConfiguration()
            let config: [String: Any] = [
                "model": modelOptions.model as Any? ?? NSNull(), "weights": modelOptions.weights as Any? ?? NSNull(),
                "layer": target?.captureName as Any? ?? NSNull(), "data": data as Any? ?? NSNull(), "split": split.rawValue,
                "concepts": concepts, "descriptions": descriptions as Any? ?? NSNull(), "neurons": neurons ?? "all",
                "pool": pool.rawValue, "activations": activations as Any? ?? NSNull(), "seed": seed,
                "invert": ["length": length, "beam": beam, "min_fraction": minFraction, "max_fraction": maxFraction,
                           "mode": mode.rawValue, "limit_search": limitSearch as Any? ?? NSNull(), "reference_beam": referenceBeam],
            ]
            let folder = try RunFolder.open(command: "invert", config: config, options: runOptions)
            let session = InvertSession(command: self, loaded: loaded, target: target, configuration: configuration, folder: folder)
            let outcome = try session.run()
            try outcome.write(to: folder, seconds: Date().timeIntervalSince(started))
            if runOptions.json { print(try jsonText(outcome.resultJSON())); return }
            let best = outcome.bestFirst().prefix(5).map { i -> String in
                let e = outcome.explanations[i][0]
                return "\(outcome.neurons[i]): \(outcome.text(e.formula)) (AUC \(String(format: "%.3f", e.auc)))"
            }
            print("invert: \(outcome.neurons.count) neurons of \(outcome.layer) over \(outcome.imageCount) images; best labelled:")
            for line in best { print("  \(line)") }
            print("report: \(folder.file("report.html").path)")
        }
    }
}

extension InvertMode: ExpressibleByArgument {}
