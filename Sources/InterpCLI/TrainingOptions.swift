import ArgumentParser
import NNRuntime

/// The training recipe flags `interp train` and `interp roar` (each retraining) share.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Epochs to train.") var epochs: Int?
    @Option(help: "Batch size.") var batchSize = 128
    @Option(help: "Optimiser: sgd, adam or adamw.") var optimizer = "adam"
    @Option(name: .customLong("lr"), help: "Learning rate.") var learningRate: Float = 1e-3
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Flag(help: "Nesterov momentum (SGD).") var nesterov = false
    @Option(help: "Weight decay (L2 for sgd/adam, decoupled for adamw).") var weightDecay: Float = 0
    @Option(help: "Learning-rate schedule: constant, step:EPOCHS:GAMMA, cosine[:MIN_LR].") var schedule = "constant"
    @Option(help: "Epochs of linear learning-rate warm-up.") var warmupEpochs = 0
    @Option(help: "Cross-entropy label smoothing.") var labelSmoothing: Float = 0
    @Option(help: "Clip the global gradient norm to this value.") var clipNorm: Float?
    @Option(help: "Random crop with this zero padding (torchvision RandomCrop(size, padding)).") var randomCropPadding: Int?
    @Flag(help: "Random horizontal flips.") var hflip = false

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if !["sgd", "adam", "adamw"].contains(optimizer) { throw ValidationError("--optimizer must be sgd, adam or adamw, not '\(optimizer)'") }
        if learningRate <= 0 { throw ValidationError("--lr must be positive") }
        _ = try LRSchedule.parse(schedule, epochs: epochs ?? 1)
    }

    func trainerOptions(epochs: Int, seed: UInt64, skipBad: Bool) -> Trainer.Options {
        Trainer.Options(epochs: epochs, batchSize: batchSize, optimizer: optimizer, learningRate: learningRate, momentum: momentum,
                        weightDecay: weightDecay, nesterov: nesterov, schedule: schedule, warmupEpochs: warmupEpochs,
                        labelSmoothing: labelSmoothing, clipNorm: clipNorm,
                        augmentation: Augmentation(cropPadding: randomCropPadding, horizontalFlip: hflip),
                        seed: seed, skipBad: skipBad)
    }
}
