import ArgumentParser
import Foundation
import NNRuntime
import Attribution
import ROAR

/// `interp roar`: RemOve And Retrain (or Keep And Retrain) benchmark of attribution methods (Hooker
/// et al., NeurIPS 2019): a base model, its maps for every image, and one retraining from scratch per
/// method, fraction and run on the modified images, each a resumable unit of the run folder.
struct ROARCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roar",
        abstract: "ROAR/KAR: retrain on images whose most (or least) important pixels are removed, per attribution method.",
        discussion: """
        Trains the base model (or takes a trained --model FILE.safetensors), computes every method's map for the \
        train, val and test images w.r.t. the predicted class (cached as maps/*.npy), then for each method, \
        fraction and run replaces that fraction of pixels by the training images' per-channel mean and retrains \
        from scratch. The random baseline always runs. Each retraining is a folder under units/; killing the run \
        and re-running resumes.
        """
    )

    @Option(help: ArgumentHelp("Architecture to train (\(ModelRegistry.all.map(\.name).joined(separator: ", "))) or a trained .safetensors model.", valueName: "arch|file"))
    var model: String
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var methodOptions: AttributionOptionGroup
    @Option(help: ArgumentHelp("Percentages removed, comma-separated.", valueName: "list")) var fractions = "10,30,50,70,90"
    @Flag(help: "Keep And Retrain: replace the least important pixels instead of the most important.") var kar = false
    @Option(help: "Retrainings per method and fraction.") var runs = 3
    @Option(help: "Ranking unit: pixel (maximum over channels) or pixel-channel (each channel on its own, as the TF original).") var rank: RankUnit = .pixel
    @Flag(help: "Rank by the squared map (magnitude) instead of the signed value.") var square = false
    @OptionGroup var training: TrainingOptions
    @Option(help: "Seed for the base model, the retrainings and the random baseline.") var seed: UInt64 = 0
    @Option(help: "Images per call of the attribution methods.") var attributionBatchSize = 64
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        _ = try parsedFractions()
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if attributionBatchSize < 1 { throw ValidationError("--attribution-batch-size must be at least 1") }
        try rejectONNXForRetraining(model, command: "interp roar")
    }

    /// The removed fractions, in [0, 1].
    func parsedFractions() throws -> [Double] { try parsePercentages(fractions, flag: "--fractions").map { $0 / 100 } }

    /// The methods evaluated: those of `--attribution`, then `random` (always run).
    func evaluated() throws -> [AttributionMethod] {
        let chosen = try methodOptions.methods()
        return chosen.contains(.random) ? chosen : chosen + [.random]
    }

    func run() throws {
        try reportingErrors {
            runOptions.applyThreads()
            let splits = try dataOptions.open()
            let epochs = training.epochs ?? 10
            let options = training.trainerOptions(epochs: epochs, seed: seed, skipBad: dataOptions.skipBad)
            let methods = try evaluated()
            let config: [String: Any] = [
                "model": model, "data": dataOptions.data, "data_origin": splits.origin, "attribution": methods.map(\.rawValue),
                "fractions": try parsedFractions(), "kind": kar ? "kar" : "roar", "runs": runs, "rank": rank.rawValue, "square": square,
                "seed": seed, "training": try JSONSerialization.jsonObject(with: JSONEncoder().encode(options)),
                "attribution_options": (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(methodOptions.options(seed: seed)))) ?? [:],
            ]
            let folder = try RunFolder.open(command: "roar", config: config, options: runOptions)
            let outcome = try ROARSession(command: self, splits: splits, options: options, methods: methods, folder: folder).run()
            try outcome.write(to: folder)
            if runOptions.json { print(try jsonText(outcome.resultJSON())); return }
            print("roar: base accuracy \(String(format: "%.4f", outcome.baseAccuracy)); \(outcome.kind.rawValue) test accuracy (mean ± std over \(runs) runs):")
            printTable(["method"] + outcome.fractions.map { String(format: "%g%%", $0 * 100) }, outcome.methods.map { m in
                [m] + outcome.fractions.indices.map { f in
                    let (mean, std) = outcome.summary(m, f)
                    return String(format: "%.3f ± %.3f", mean, std)
                }
            })
            print("report: \(folder.file("report.html").path)")
        }
    }
}

extension RankUnit: ExpressibleByArgument {}
