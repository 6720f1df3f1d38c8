import ArgumentParser
import Foundation
import NNRuntime
import RDR

/// `interp rdr`: Relaxed Decision Regions (Chang, Kwon, Choi, AAAI 2024) around target instances:
/// the principal neurons whose on/off states the target's nearest neighbours in configuration space
/// share, and every instance of the data that shares them.
struct RDRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rdr",
        abstract: "Relaxed Decision Regions: principal neurons whose on/off states group instances like a target.",
        discussion: """
        --layer is a trunk index (see `interp layers`): the feature is that stage's output and the configuration \
        is the on/off pattern of the first ReLU-family activation after it (VGG19 --layer 27: conv5_1's ReLU). \
        Configurations of every image of --data are stored as bits in the run folder (re-running resumes). \
        Each region is compared with the Euclidean and cosine nearest neighbours of equal size on the feature. \
        With --activations P.npy (N×D values of the configuration layer) no model is needed.
        """
    )

    @OptionGroup var modelOptions: OptionalModelOptions
    @Option(help: ArgumentHelp("Trunk index (or the path of a trunk stage) whose output is the feature.", valueName: "index")) var layer: String?
    @Option(help: ArgumentHelp("The instances: a folder with splits, an ImageFolder, or a fetched set.", valueName: "path|name")) var data: String?
    @Option(help: ArgumentHelp("Force the dataset format.", valueName: "format")) var dataFormat: DataFormat?
    @Option(help: "The split that holds the instances (the original uses the training set).") var split: Split = .train
    @Option(help: "One target: the index of an instance of the split.") var target: Int?
    @Option(help: ArgumentHelp("One target: an image file outside the data.", valueName: "file")) var targetImage: String?
    @Option(help: "Seeded random targets from the split (default 5 when no target is given).") var targets: Int?
    @Option(help: "Neighbours (including the target) whose unanimous units are candidates.") var k = 8
    @Option(help: "Principal neurons (hyperplanes) that bound the region.") var t = 10
    @Option(help: ArgumentHelp("Mutually exclusive concepts to measure region purity on, e.g. red,green,blue,yellow (default for shapes data: its colours).", valueName: "list"))
    var purityGroup: String?
    @Option(help: ArgumentHelp("Concept CSV for --purity-group (default <data>/concepts.csv).", valueName: "file")) var concepts: String?
    @Option(help: ArgumentHelp("Analyse a saved N×D matrix of the configuration layer's values (bit = value > 0) instead of running a model.", valueName: "P.npy"))
    var activations: String?
    @Option(help: ArgumentHelp("Labels for --activations rows, one per line.", valueName: "file")) var labels: String?
    @Option(help: "Images per forward pass.") var batchSize = 64
    @Option(help: "Seed for target choice and random-init models.") var seed: UInt64 = 0
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if activations == nil && (modelOptions.model == nil || layer == nil || data == nil) {
            throw ValidationError("give --model, --layer and --data, or --activations P.npy")
        }
        if [target != nil, targetImage != nil, targets != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --target, --target-image and --targets")
        }
        if targetImage != nil && activations != nil { throw ValidationError("--target-image needs a model; --activations has none") }
        if let targets, targets < 1 { throw ValidationError("--targets must be at least 1") }
        if let target, target < 0 { throw ValidationError("--target must be an instance index ≥ 0") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        do { try settings.validate() } catch let e as RDRError { throw ValidationError(e.description) }
    }

    var settings: RegionSettings {
        var s = RegionSettings()
        s.k = k
        s.t = t
        return s
    }

    func run() throws {
        try reportingErrors {
            runOptions.applyThreads()
            let started = Date()
            let config: [String: Any] = [
                "model": modelOptions.model as Any? ?? NSNull(), "weights": modelOptions.weights as Any? ?? NSNull(), "layer": layer as Any? ?? NSNull(),
                "data": data as Any? ?? NSNull(), "split": split.rawValue, "target": target as Any? ?? NSNull(),
                "target_image": targetImage as Any? ?? NSNull(), "targets": targets as Any? ?? NSNull(), "k": k, "t": t,
                "purity_group": purityGroup as Any? ?? NSNull(), "concepts": concepts as Any? ?? NSNull(),
                "activations": activations as Any? ?? NSNull(), "labels": labels as Any? ?? NSNull(), "seed": seed,
            ]
            let folder = try RunFolder.open(command: "rdr", config: config, options: runOptions)
            let outcome = try RDRSession(command: self, folder: folder).run()
            try outcome.write(to: folder, seconds: Date().timeIntervalSince(started))
            if runOptions.json { print(try jsonText(outcome.resultJSON())); return }
            print("rdr: \(outcome.regions.count) region(s) over \(outcome.instanceCount) instances, \(outcome.units) units of \(outcome.configurationName) (k \(k), t \(t))")
            let rows = outcome.regions.map { r -> [String] in
                [r.targetName, "\(r.region.members.count)", RDRReport.f(r.purity), RDRReport.f(r.baselines["euclidean"]?.purity),
                 RDRReport.f(r.baselines["cosine"]?.purity)] + (outcome.group == nil ? [] : [RDRReport.f(r.groupPurity)])
            }
            printTable(["target", "members", "purity", "euclidean", "cosine"] + (outcome.group == nil ? [] : ["group purity"]), rows)
            print("report: \(folder.file("report.html").path)")
        }
    }
}
