import Foundation

/// One batch: inputs `[N, C, H, W]`, labels, and the dataset indices they came from.
public struct Batch {
    public let inputs: Tensor
    public let labels: [Int]
    public let indices: [Int]
}

/// Batches a dataset with seeded shuffling, optional drop-last, augmentation and preprocessing,
/// decoding the next batch on a background thread while the caller works on the current one.
///
/// Randomness is drawn per batch from `(seed, epoch, batch)`, so an epoch's batches and their
/// augmentations are the same however the work is scheduled, and a resumed run sees the same data.
public struct DataLoader: Sequence {
    public let dataset: any Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64
    public let epoch: Int
    public let input: InputSpec
    public let augmentation: Augmentation
    /// Skip samples that fail to decode (counted in ``BadSamples``) instead of stopping.
    public let skipBad: Bool
    public let badSamples: BadSamples

    public init(_ dataset: any Dataset, batchSize: Int, input: InputSpec, shuffle: Bool = false, dropLast: Bool = false,
                augmentation: Augmentation = .none, seed: UInt64 = 0, epoch: Int = 0, skipBad: Bool = false,
                badSamples: BadSamples = BadSamples()) {
        precondition(batchSize > 0, "DataLoader: batch size must be positive")
        (self.dataset, self.batchSize, self.input, self.shuffle, self.dropLast) = (dataset, batchSize, input, shuffle, dropLast)
        (self.augmentation, self.seed, self.epoch, self.skipBad, self.badSamples) = (augmentation, seed, epoch, skipBad, badSamples)
    }

    /// The sample order of this epoch.
    public var order: [Int] {
        var indices = Array(0..<dataset.count)
        if shuffle {
            var gen = SeededGenerator(seed: seed &* 0x9E37_79B9 &+ UInt64(epoch) &+ 1)
            indices.shuffle(using: &gen)
        }
        return indices
    }

    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Builds batch `b` of this epoch (used by the iterator on a background thread).
    func makeBatch(_ b: Int, order: [Int]) throws -> Batch? {
        let chosen = Array(order[(b * batchSize)..<Swift.min((b + 1) * batchSize, order.count)])
        var gen = SeededGenerator(seed: seed ^ (UInt64(epoch) << 32) ^ UInt64(b) &* 0xBF58_476D_1CE4_E5B9)
        var tensors: [Tensor] = [], labels: [Int] = [], kept: [Int] = []
        for i in chosen {
            let sample: (image: Image, label: Int)
            do { sample = try dataset.sample(at: i) } catch {
                guard skipBad else { throw error }
                badSamples.record(dataset.name(at: i))
                continue
            }
            var sampleGen = gen.split()
            tensors.append(input(augmentation.apply(sample.image, using: &sampleGen)).unsqueezed(axis: 0))
            labels.append(sample.label)
            kept.append(i)
        }
        guard !tensors.isEmpty else { return nil }
        return Batch(inputs: concat(tensors, axis: 0), labels: labels, indices: kept)
    }

    public func makeIterator() -> Iterator { Iterator(loader: self) }

    /// Yields batches in order; the next batch is prepared in the background. A sample that fails
    /// to decode ends the iteration and is available as ``error``.
    public final class Iterator: IteratorProtocol {
        let loader: DataLoader
        let order: [Int]
        var nextBatch: Int = 0
        var pending: (DispatchGroup, Box)?
        public private(set) var error: Error?

        final class Box: @unchecked Sendable { var result: Result<Batch?, Error> = .success(nil) }

        init(loader: DataLoader) {
            self.loader = loader
            order = loader.order
            pending = start(0)
        }

        private func start(_ b: Int) -> (DispatchGroup, Box)? {
            guard b < loader.batchCount else { return nil }
            let group = DispatchGroup(), box = Box()
            let loader = self.loader, order = self.order
            DispatchQueue.global(qos: .userInitiated).async(group: group) {
                box.result = Result { try withoutGradients { try loader.makeBatch(b, order: order) } }
            }
            return (group, box)
        }

        public func next() -> Batch? {
            while let (group, box) = pending {
                group.wait()
                nextBatch += 1
                pending = start(nextBatch)
                switch box.result {
                case .success(let batch?): return batch
                case .success(nil): continue          // every sample of the batch was skipped
                case .failure(let e): error = e; pending = nil; return nil
                }
            }
            return nil
        }
    }
}

/// A thread-safe count of skipped samples, with the first few names for the report.
public final class BadSamples: @unchecked Sendable {
    private let lock = NSLock()
    public private(set) var count = 0
    public private(set) var examples: [String] = []
    public init() {}
    func record(_ name: String) {
        lock.lock(); defer { lock.unlock() }
        count += 1
        if examples.count < 5 { examples.append(name) }
    }
}
