import Foundation
import NNRuntime

/// One retraining of a ROAR/KAR benchmark (Hooker et al., NeurIPS 2019, §3): a fresh model trained on
/// the training images with one method's removal, scored on the equally modified test images.
public struct RetrainingUnit: Codable, Hashable, Sendable, CustomStringConvertible {
    public var method: String
    public var kind: RemovalKind
    public var fraction: Double
    public var run: Int

    public init(method: String, kind: RemovalKind, fraction: Double, run: Int) {
        (self.method, self.kind, self.fraction, self.run) = (method, kind, fraction, run)
    }

    /// The unit's folder name, e.g. `roar-gradcam-30-run1`.
    public var id: String {
        "\(kind.rawValue)-\(method)-\(String(format: "%g", fraction * 100))-run\(run)"
    }
    public var description: String { id }
}

/// What a finished unit wrote to its `result.json`.
public struct RetrainingResult: Codable, Sendable, Equatable {
    public var testAccuracy: Double
    public var bestValAccuracy: Double
    public var epochs: Int
    public var seconds: Double
}

/// Runs retraining units, each a resumable folder of its own: `checkpoint.safetensors` after every
/// epoch (weights, optimiser state, progress) and `result.json` once done. A unit with a result is never
/// run again, and an interrupted one continues from its last finished epoch, so killing a long ROAR
/// run loses at most one epoch.
public struct Retrainer {
    /// The folder that holds one sub-folder per unit.
    public let folder: URL
    public let input: InputSpec
    public let options: Trainer.Options
    /// A freshly initialised model for a unit (seeded by the unit, so runs differ and reruns agree).
    public let makeModel: (UInt64) throws -> Module

    public init(folder: URL, input: InputSpec, options: Trainer.Options, makeModel: @escaping (UInt64) throws -> Module) {
        (self.folder, self.input, self.options, self.makeModel) = (folder, input, options, makeModel)
    }

    /// The stored result of `unit`, if it finished.
    public func result(of unit: RetrainingUnit) -> RetrainingResult? {
        let url = folder.appendingPathComponent(unit.id).appendingPathComponent("result.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(RetrainingResult.self, from: data)
    }

    /// Trains `unit` on `train` (validating on `val`, keeping the best-validation weights) and scores
    /// it on `test`; returns the stored result when the unit already finished.
    @discardableResult
    public func run(_ unit: RetrainingUnit, train: any Dataset, val: any Dataset, test: any Dataset,
                    onEpoch: (Trainer.EpochReport) -> Void = { _ in }) throws -> RetrainingResult {
        if let done = result(of: unit) { return done }
        let dir = folder.appendingPathComponent(unit.id)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var options = self.options
        options.seed = unitSeed(unit)
        let model = try makeModel(options.seed)
        let trainer = try Trainer(model: model, input: input, options: options)
        let checkpointURL = dir.appendingPathComponent("checkpoint.safetensors")
        let bestURL = dir.appendingPathComponent("best.safetensors")
        if FileManager.default.fileExists(atPath: checkpointURL.path) {
            try trainer.restore(try SafeTensors.read(contentsOf: checkpointURL).tensors)
        }
        let start = Date()
        try trainer.fit(train: train, val: val) { report, isBest, checkpoint in
            if isBest { try SafeTensors.write(Dictionary(model.stateDict(), uniquingKeysWith: { a, _ in a }), to: bestURL) }
            try SafeTensors.write(checkpoint, to: checkpointURL)
            onEpoch(report)
        }
        if FileManager.default.fileExists(atPath: bestURL.path) {
            try model.loadStateDict(try SafeTensors.read(contentsOf: bestURL).tensors)
        }
        let accuracy = try Trainer.evaluate(model, input: input, data: test, batchSize: options.batchSize).accuracy
        let result = RetrainingResult(testAccuracy: accuracy, bestValAccuracy: trainer.bestValAccuracy,
                                      epochs: trainer.completedEpochs, seconds: Date().timeIntervalSince(start))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: dir.appendingPathComponent("result.json"), options: .atomic)
        // The checkpoint only serves resumption; the best weights stay for inspection.
        try? FileManager.default.removeItem(at: checkpointURL)
        return result
    }

    /// The best-validation model of a finished unit.
    public func trainedModel(_ unit: RetrainingUnit) throws -> Module {
        let url = folder.appendingPathComponent(unit.id).appendingPathComponent("best.safetensors")
        guard result(of: unit) != nil, FileManager.default.fileExists(atPath: url.path) else {
            throw ROARError("unit \(unit.id) has not finished training")
        }
        let model = try makeModel(unitSeed(unit))
        try model.loadStateDict(try SafeTensors.read(contentsOf: url).tensors)
        model.eval()
        return model
    }

    /// A seed per unit from the base seed and the unit's identity (FNV-1a over its id).
    func unitSeed(_ unit: RetrainingUnit) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ options.seed
        for byte in unit.id.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
