import Foundation
import NNRuntime
import Attribution
import ROAR

/// One `interp roar` run: the base model (a unit of its own), cached maps, then every retraining unit.
struct ROARSession {
    let command: ROARCommand
    let splits: DatasetSplits
    let options: Trainer.Options
    let methods: [AttributionMethod]
    let folder: RunFolder

    struct Outcome {
        var baseAccuracy: Double
        var kind: RemovalKind
        var fractions: [Double]
        var methods: [String]
        /// Test accuracy per method: one row per run, one column per fraction.
        var accuracies: [String: [[Double]]]
        /// The first test image, and per method its modified versions at each fraction.
        var original: Image?
        var examples: [String: [Image]]
        var modelName: String
        var runs: Int

        func summary(_ method: String, _ f: Int) -> (mean: Double, std: Double) {
            let values = (accuracies[method] ?? []).map { $0[f] }
            let mean = values.reduce(0, +) / Double(max(values.count, 1))
            let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1) : 0
            return (mean, variance.squareRoot())
        }

        /// result.json as the issue specifies it.
        func resultJSON() -> [String: Any] {
            ["base_accuracy": baseAccuracy, "kind": kind.rawValue, "fractions": fractions.map { $0 * 100 }, "model": modelName,
             "methods": Dictionary(uniqueKeysWithValues: methods.map { m in
                 (m, ["runs": accuracies[m] ?? [], "mean": fractions.indices.map { summary(m, $0).mean },
                      "std": fractions.indices.map { summary(m, $0).std }] as [String: Any])
             })]
        }

        func write(to folder: RunFolder) throws {
            try folder.writeJSON(resultJSON(), to: "result.json")
            try ROARReport(outcome: self).build().write(to: folder.file("report.html"))
        }
    }

    func run() throws -> Outcome {
        let classes = splits.train.classNames
        let trained = command.model.hasSuffix(".safetensors") ? try ModelLoader.load(model: command.model) : nil
        let arch = trained?.name ?? command.model
        let fresh = try ModelLoader.fresh(arch, classNames: classes, seed: command.seed)
        let retrainer = Retrainer(folder: folder.file("units"), input: fresh.input, options: options) { seed in
            try ModelLoader.fresh(arch, classNames: classes, seed: seed).module
        }
        // The base model: given, or trained as a unit of its own on the unmodified data.
        let base: Module, baseAccuracy: Double
        if let trained {
            guard trained.classNames.count == classes.count else {
                throw ModelError("\(command.model) predicts \(trained.classNames.count) classes but the data has \(classes.count)")
            }
            base = trained.module
            base.eval()
            baseAccuracy = try Trainer.evaluate(base, input: trained.input, data: splits.test).accuracy
        } else {
            let unit = RetrainingUnit(method: "base", kind: .roar, fraction: 0, run: 0)
            baseAccuracy = try retrainer.run(unit, train: splits.train, val: splits.val, test: splits.test) { report in
                FileHandle.standardError.write(Data(String(format: "roar: base model epoch %d  val acc %.4f\n", report.epoch, report.valAccuracy).utf8))
            }.testAccuracy
            base = try retrainer.trainedModel(unit)
        }
        let input = trained?.input ?? fresh.input
        let attributors = try methods.map {
            try Attributor(model: base, method: $0, options: command.methodOptions.options(seed: command.seed),
                           gradCAMLayer: trained?.gradCAMLayer ?? fresh.gradCAMLayer, input: input)
        }
        var maps: [String: [Split: Tensor]] = [:]
        for a in attributors {
            for split in Split.allCases { maps[a.method.rawValue, default: [:]][split] = try cachedMaps(a, split: split, input: input) }
        }
        let mean = try RemovedDataset.channelMeans(of: splits.train)
        let kind: RemovalKind = command.kar ? .kar : .roar
        let fractions = try command.parsedFractions()
        var accuracies: [String: [[Double]]] = [:]
        let total = methods.count * fractions.count * command.runs
        var done = 0
        for method in methods.map(\.rawValue) {
            var rows = [[Double]](repeating: [Double](repeating: .nan, count: fractions.count), count: command.runs)
            for (f, fraction) in fractions.enumerated() {
                let removal = Removal(kind: kind, fraction: fraction, rank: command.rank, square: command.square)
                let view = { (split: Split) in try RemovedDataset(base: splits[split], maps: maps[method]![split]!, removal: removal, mean: mean) }
                for r in 0..<command.runs {
                    let unit = RetrainingUnit(method: method, kind: kind, fraction: fraction, run: r)
                    let cached = retrainer.result(of: unit) != nil
                    let result = try retrainer.run(unit, train: try view(.train), val: try view(.val), test: try view(.test))
                    rows[r][f] = result.testAccuracy
                    done += 1
                    FileHandle.standardError.write(Data(String(format: "roar: %d/%d %@: test accuracy %.4f%@\n", done, total, unit.id,
                                                                result.testAccuracy, cached ? " (cached)" : String(format: " (%.0f s)", result.seconds)).utf8))
                }
            }
            accuracies[method] = rows
        }
        var examples: [String: [Image]] = [:]
        let original = splits.test.count > 0 ? try splits.test.sample(at: 0).image : nil
        if let original {
            for method in methods.map(\.rawValue) {
                examples[method] = try fractions.map { fraction in
                    try Removal(kind: kind, fraction: fraction, rank: command.rank, square: command.square)
                        .apply(original, map: maps[method]![.test]![0], mean: mean)
                }
            }
        }
        return Outcome(baseAccuracy: baseAccuracy, kind: kind, fractions: fractions, methods: methods.map(\.rawValue),
                       accuracies: accuracies, original: original, examples: examples, modelName: arch, runs: command.runs)
    }

    /// Every image's map for one method and split w.r.t. the base model's prediction, cached as .npy.
    func cachedMaps(_ attributor: Attributor, split: Split, input: InputSpec) throws -> Tensor {
        let data = splits[split]
        let url = folder.file("maps").appendingPathComponent("\(attributor.method.rawValue)-\(split.rawValue).npy")
        if let saved = try? NPY.read(contentsOf: url), saved.rank == 4, saved.shape[0] == data.count { return saved }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var parts: [Tensor] = []
        let bar = ProgressBar(label: "roar: \(attributor.method.rawValue) maps (\(split.rawValue))")
        for start in stride(from: 0, to: data.count, by: command.attributionBatchSize) {
            let end = min(start + command.attributionBatchSize, data.count)
            let x = input.batch(try (start..<end).map { try data.sample(at: $0).image })
            parts.append(try attributor.attribute(x).maps)
            bar.update(end, data.count, "images")
        }
        let maps = concat(parts, axis: 0)
        bar.finish("\(data.count) maps \(Array(maps.shape.dropFirst()))")
        try NPY.write(maps, to: url)
        return maps
    }
}
