import ArgumentParser
import Foundation
import NNRuntime

/// `interp train`: trains a zoo architecture from scratch (or fine-tunes loaded weights) on a
/// dataset, keeping the best-validation model and a resumable checkpoint in the run folder.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a dataset; writes model.safetensors (best validation) and a resumable checkpoint.",
        discussion: "Re-running the same command resumes from the run folder's checkpoint. Defaults follow the ROAR ResNet-8 recipe where it applies."
    )

    @Option(help: ArgumentHelp("Architecture to train from scratch (\(ModelRegistry.all.map(\.name).joined(separator: ", "))) or a .safetensors model to fine-tune.", valueName: "arch|file"))
    var model: String
    @Option(help: ArgumentHelp("Initial weights to fine-tune (.pth or .safetensors).", valueName: "file")) var weights: String?
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Seed for initialisation, shuffling and augmentation.") var seed: UInt64 = 0
    @OptionGroup var runOptions: RunOptions

    var epochs: Int { training.epochs ?? 0 }
    var trainerOptions: Trainer.Options { training.trainerOptions(epochs: epochs, seed: seed, skipBad: dataOptions.skipBad) }

    func validate() throws {
        guard training.epochs != nil else { throw ValidationError("--epochs is required") }
        try training.validate()
        try rejectONNXForRetraining(model, command: "interp train")
    }

    func run() throws {
        try reportingErrors {
            runOptions.applyThreads()
            let splits = try dataOptions.open()
            let classes = splits.train.classNames
            let loaded: LoadedModel
            if model.hasSuffix(".safetensors") || weights != nil {
                loaded = try ModelLoader.load(model: model, weights: weights, seed: seed)
                guard loaded.classNames.count == classes.count else {
                    throw ModelError("\(model) predicts \(loaded.classNames.count) classes but the data has \(classes.count)")
                }
            } else {
                loaded = try ModelLoader.fresh(model, classNames: classes, seed: seed)
            }
            var config: [String: Any] = ["model": model, "weights": weights as Any? ?? NSNull(), "data": dataOptions.data,
                                         "data_format": dataOptions.dataFormat?.rawValue as Any? ?? NSNull(), "data_origin": splits.origin]
            let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(trainerOptions))
            config["training"] = encoded
            let folder = try RunFolder.open(command: "train", config: config, options: runOptions)
            let trainer = try Trainer(model: loaded.module, input: loaded.input, options: trainerOptions)
            let checkpointURL = folder.file("checkpoint.safetensors")
            if folder.resumed, FileManager.default.fileExists(atPath: checkpointURL.path) {
                try trainer.restore(try SafeTensors.read(contentsOf: checkpointURL).tensors)
                FileHandle.standardError.write(Data("train: resuming \(folder.url.path) after epoch \(trainer.completedEpochs)\n".utf8))
            }
            // A run killed between an epoch's history line and its checkpoint retrains that epoch: drop its line.
            try folder.keepLines(of: "history.jsonl") { line in
                ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["epoch"] as? Int ?? .max <= trainer.completedEpochs
            }
            let start = Date()
            let modelURL = folder.file("model.safetensors")
            try trainer.fit(train: splits.train, val: splits.val, progress: { b, n, loss in
                ProgressBar(label: "epoch \(trainer.completedEpochs + 1)/\(epochs)").update(b, n, String(format: "loss %.4f", loss))
            }) { report, isBest, checkpoint in
                ProgressBar(label: "epoch \(report.epoch)/\(epochs)").finish(String(format: "loss %.4f  train acc %.4f  val acc %.4f  lr %.2g  %.1fs%@",
                    report.trainLoss, report.trainAccuracy, report.valAccuracy, report.learningRate, report.seconds, isBest ? "  (best)" : ""))
                if isBest { try ModelLoader.save(loaded, to: modelURL) }
                // History first: a kill between the two leaves a line that the resumed run drops and retrains.
                try folder.appendLine(String(decoding: try JSONEncoder().encode(report), as: UTF8.self), to: "history.jsonl")
                try SafeTensors.write(checkpoint, to: checkpointURL)
            }
            // Report with the best-validation weights.
            let best = try ModelLoader.load(model: modelURL.path)
            let trainAcc = try Trainer.evaluate(best.module, input: best.input, data: splits.train, skipBad: dataOptions.skipBad).accuracy
            let valAcc = try Trainer.evaluate(best.module, input: best.input, data: splits.val, skipBad: dataOptions.skipBad).accuracy
            let test = try Trainer.evaluate(best.module, input: best.input, data: splits.test, skipBad: dataOptions.skipBad)
            var result: [String: Any] = ["epochs": epochs, "train_accuracy": trainAcc, "val_accuracy": valAcc,
                                         "test_accuracy": test.accuracy, "seconds": Date().timeIntervalSince(start),
                                         "model": modelURL.path, "classes": classes]
            if trainer.badSamples.count > 0 { result["skipped_samples"] = trainer.badSamples.count }
            try folder.writeJSON(result, to: "result.json")
            if runOptions.json { print(try jsonText(result)) } else {
                print(String(format: "trained %@ for %d epochs: train %.4f, val %.4f, test %.4f accuracy -> %@",
                             loaded.name, epochs, trainAcc, valAcc, test.accuracy, modelURL.path))
            }
        }
    }
}

/// `--data`, `--data-format`, `--skip-bad`: the dataset options of training and evaluation.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Dataset: a folder (train/ test/ splits, ImageFolder, CIFAR binary, MNIST IDX, NAME_INDEX_LABEL images), a CSV, or a fetched set (mnist5k, foolbox-*).", valueName: "path|name"))
    var data: String
    @Option(help: ArgumentHelp("Force the dataset format: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "format"))
    var dataFormat: DataFormat?
    @Flag(help: "Skip (and count) images that fail to decode instead of stopping.") var skipBad = false

    func open() throws -> DatasetSplits { try DatasetLoader.open(data, format: dataFormat) }
}

extension DataFormat: ExpressibleByArgument {}
