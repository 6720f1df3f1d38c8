import Foundation

/// Supervised training with cross-entropy: epochs over a ``DataLoader``, validation after each,
/// the best-validation weights kept, and a checkpoint (weights, optimiser moments, epoch, best
/// accuracy) after every epoch so an interrupted run resumes where it stopped.
public final class Trainer {
    public struct Options: Sendable, Codable, Equatable {
        public var epochs: Int
        public var batchSize: Int
        public var optimizer: String            // sgd | adam | adamw
        public var learningRate: Float
        public var momentum: Float
        public var weightDecay: Float
        public var nesterov: Bool
        public var schedule: String             // constant | step:S:G | cosine[:MIN]
        public var warmupEpochs: Int
        public var labelSmoothing: Float
        public var clipNorm: Float?
        public var augmentation: Augmentation
        public var seed: UInt64
        public var skipBad: Bool

        public init(epochs: Int, batchSize: Int = 128, optimizer: String = "adam", learningRate: Float = 1e-3,
                    momentum: Float = 0.9, weightDecay: Float = 0, nesterov: Bool = false, schedule: String = "constant",
                    warmupEpochs: Int = 0, labelSmoothing: Float = 0, clipNorm: Float? = nil,
                    augmentation: Augmentation = .none, seed: UInt64 = 0, skipBad: Bool = false) {
            (self.epochs, self.batchSize, self.optimizer, self.learningRate) = (epochs, batchSize, optimizer, learningRate)
            (self.momentum, self.weightDecay, self.nesterov, self.schedule) = (momentum, weightDecay, nesterov, schedule)
            (self.warmupEpochs, self.labelSmoothing, self.clipNorm, self.augmentation) = (warmupEpochs, labelSmoothing, clipNorm, augmentation)
            (self.seed, self.skipBad) = (seed, skipBad)
        }
    }

    /// What one epoch did.
    public struct EpochReport: Sendable, Codable {
        public let epoch: Int
        public let trainLoss: Float
        public let trainAccuracy: Double
        public let valAccuracy: Double
        public let learningRate: Float
        public let seconds: Double
    }

    public let model: Module
    public let input: InputSpec
    public let options: Options
    public let optimizer: Optimizer
    let schedule: LRSchedule
    public private(set) var completedEpochs = 0
    public private(set) var bestValAccuracy = -1.0
    public private(set) var history: [EpochReport] = []
    public let badSamples = BadSamples()

    public init(model: Module, input: InputSpec, options: Options) throws {
        self.model = model
        self.input = input
        self.options = options
        schedule = try LRSchedule.parse(options.schedule, epochs: options.epochs)
        switch options.optimizer {
        case "sgd": optimizer = SGD(learningRate: options.learningRate, momentum: options.momentum,
                                    weightDecay: options.weightDecay, nesterov: options.nesterov)
        case "adam": optimizer = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        case "adamw": optimizer = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay, decoupledWeightDecay: true)
        default: throw ModelError("unknown optimiser '\(options.optimizer)'; expected sgd, adam or adamw")
        }
    }

    /// Trains the remaining epochs. `onEpoch` receives each report and whether it was the best so
    /// far (to save the model), then the checkpoint state to persist.
    public func fit(train: any Dataset, val: any Dataset,
                    progress: (Int, Int, Float) -> Void = { _, _, _ in },
                    onEpoch: (EpochReport, _ isBest: Bool, _ checkpoint: [String: Tensor]) throws -> Void) throws {
        while completedEpochs < options.epochs {
            let epoch = completedEpochs
            let start = Date()
            let lr = schedule.learningRate(base: options.learningRate, epoch: epoch, warmupEpochs: options.warmupEpochs)
            optimizer.learningRate = lr
            model.train()
            let loader = DataLoader(train, batchSize: options.batchSize, input: input, shuffle: true, dropLast: false,
                                    augmentation: options.augmentation, seed: options.seed, epoch: epoch,
                                    skipBad: options.skipBad, badSamples: badSamples)
            var totalLoss = 0.0, correct = 0, seen = 0, batchIndex = 0
            let iterator = loader.makeIterator()
            while let batch = iterator.next() {
                let (loss, grads, predictions) = step(batch)
                guard loss.isFinite else {
                    throw ModelError("training diverged: loss became \(loss) in epoch \(epoch + 1), batch \(batchIndex + 1); lower --lr")
                }
                optimizer.step(options.clipNorm.map { grads.clipped(maxNorm: $0) } ?? grads)
                totalLoss += Double(loss) * Double(batch.labels.count)
                correct += zip(predictions, batch.labels).filter { $0 == $1 }.count
                seen += batch.labels.count
                batchIndex += 1
                progress(batchIndex, loader.batchCount, loss)
            }
            if let error = iterator.error { throw error }
            let valAccuracy = try evaluate(val).accuracy
            let report = EpochReport(epoch: epoch + 1, trainLoss: Float(totalLoss / Double(Swift.max(seen, 1))),
                                     trainAccuracy: Double(correct) / Double(Swift.max(seen, 1)), valAccuracy: valAccuracy,
                                     learningRate: lr, seconds: Date().timeIntervalSince(start))
            history.append(report)
            let isBest = valAccuracy > bestValAccuracy
            if isBest { bestValAccuracy = valAccuracy }
            completedEpochs += 1
            try onEpoch(report, isBest, checkpoint())
        }
    }

    private func step(_ batch: Batch) -> (Float, ParameterGradients, [Int]) {
        var logits = Tensor(0)
        let (loss, grads) = valueAndGradient(of: model) { m -> Tensor in
            let out = m(batch.inputs)
            logits = out
            return crossEntropy(out, labels: batch.labels, labelSmoothing: options.labelSmoothing)
        }
        return (loss.scalar, grads, logits.argmax(axis: 1))
    }

    /// Accuracy and confusion matrix (rows: true class, columns: predicted) in evaluation mode.
    public func evaluate(_ data: any Dataset) throws -> (accuracy: Double, confusion: [[Int]]) {
        try Trainer.evaluate(model, input: input, data: data, batchSize: options.batchSize, skipBad: options.skipBad, badSamples: badSamples)
    }

    public static func evaluate(_ model: Module, input: InputSpec, data: any Dataset, batchSize: Int = 128,
                                skipBad: Bool = false, badSamples: BadSamples = BadSamples()) throws -> (accuracy: Double, confusion: [[Int]]) {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let classes = data.classNames.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        let iterator = DataLoader(data, batchSize: batchSize, input: input, skipBad: skipBad, badSamples: badSamples).makeIterator()
        var correct = 0, seen = 0
        while let batch = iterator.next() {
            let predictions = withoutGradients { model(batch.inputs) }.argmax(axis: 1)
            for (p, l) in zip(predictions, batch.labels) {
                if l < classes && p < classes { confusion[l][p] += 1 }
                if p == l { correct += 1 }
                seen += 1
            }
        }
        if let error = iterator.error { throw error }
        return (Double(correct) / Double(Swift.max(seen, 1)), confusion)
    }

    // MARK: - Checkpoints

    /// Weights (`model.*`), optimiser state (`optim.*`) and progress (`trainer.*`).
    public func checkpoint() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        let params = model.namedParameters()
        for (k, v) in model.stateDict() { out["model.\(k)"] = v }
        for (k, v) in optimizer.stateDict(paths: params) { out["optim.\(k)"] = v }
        out["trainer.completed_epochs"] = Tensor(Float(completedEpochs))
        out["trainer.best_val_accuracy"] = Tensor(Float(bestValAccuracy))
        return out
    }

    /// Restores a checkpoint written by ``checkpoint()``.
    public func restore(_ state: [String: Tensor]) throws {
        var weights: [String: Tensor] = [:], optim: [String: Tensor] = [:]
        for (k, v) in state {
            if k.hasPrefix("model.") { weights[String(k.dropFirst(6))] = v }
            if k.hasPrefix("optim.") { optim[String(k.dropFirst(6))] = v }
        }
        try model.loadStateDict(weights)
        try optimizer.loadStateDict(optim, paths: model.namedParameters())
        completedEpochs = Int(state["trainer.completed_epochs"]?.scalar ?? 0)
        bestValAccuracy = Double(state["trainer.best_val_accuracy"]?.scalar ?? -1)
    }
}
