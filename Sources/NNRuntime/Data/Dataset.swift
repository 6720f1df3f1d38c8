import Foundation

/// A labelled image dataset. Samples are 8-bit images, so that the same PIL-exact transforms apply
/// to files and to binary formats (CIFAR, MNIST) alike.
public protocol Dataset: Sendable {
    var count: Int { get }
    /// Class names by label.
    var classNames: [String] { get }
    /// The image and label of sample `index`.
    func sample(at index: Int) throws -> (image: Image, label: Int)
    /// A stable name of the sample: its path relative to the dataset root, or `split/index`.
    func name(at index: Int) -> String
}

extension Dataset {
    /// The file behind sample `index`, when the dataset is made of image files (concept tables and
    /// reports match and reload images by it); nil for datasets held in memory.
    public func fileURL(at index: Int) -> URL? {
        if let files = self as? ImageFileDataset { return files.files[index] }
        if let subset = self as? Subset { return subset.base.fileURL(at: subset.indices[index]) }
        return nil
    }
}

/// The dataset splits every command can read with `--split`.
public enum Split: String, CaseIterable, Sendable, Codable {
    case train, val, test
}

/// Why a dataset could not be read; one line naming the file and what was expected.
public struct DatasetError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A view of some samples of another dataset (a split).
public struct Subset: Dataset {
    public let base: any Dataset
    public let indices: [Int]
    public var count: Int { indices.count }
    public var classNames: [String] { base.classNames }
    public init(_ base: any Dataset, indices: [Int]) { self.base = base; self.indices = indices }
    public func sample(at index: Int) throws -> (image: Image, label: Int) { try base.sample(at: indices[index]) }
    public func name(at index: Int) -> String { base.name(at: indices[index]) }
}

/// The splits of one dataset. Where the data has no official validation or test split, they are
/// carved out with a fixed seed (test 20 %, validation 10 % of the rest), so every command sees the
/// same split whatever its own `--seed`.
public struct DatasetSplits: Sendable {
    public let train: any Dataset
    public let val: any Dataset
    public let test: any Dataset
    /// How the splits were made, for run configs and reports.
    public let origin: String

    public subscript(split: Split) -> any Dataset {
        switch split { case .train: train; case .val: val; case .test: test }
    }

    /// Official train and test; validation carved from train when absent.
    public init(train: any Dataset, val: (any Dataset)?, test: any Dataset, origin: String) {
        if let val {
            (self.train, self.val) = (train, val)
        } else {
            let (rest, carved) = DatasetSplits.carve(train.count, fraction: 0.1, salt: 1)
            (self.train, self.val) = (Subset(train, indices: rest), Subset(train, indices: carved))
        }
        self.test = test
        self.origin = origin + (val == nil ? "; val = seeded 10 % of train" : "")
    }

    /// One dataset without official splits.
    public init(single data: any Dataset, origin: String) {
        let (rest, test) = DatasetSplits.carve(data.count, fraction: 0.2, salt: 2)
        let (train, val) = DatasetSplits.carve(rest.count, fraction: 0.1, salt: 3)
        self.train = Subset(data, indices: train.map { rest[$0] })
        self.val = Subset(data, indices: val.map { rest[$0] })
        self.test = Subset(data, indices: test)
        self.origin = origin + "; seeded split: test 20 %, val 10 % of the rest"
    }

    /// Splits `0..<n` into (kept, carved) with `round(n·fraction)` carved, by a fixed-seed shuffle;
    /// both parts keep ascending order.
    static func carve(_ n: Int, fraction: Double, salt: UInt64) -> ([Int], [Int]) {
        var gen = SeededGenerator(seed: 0x5EED &+ salt)
        var order = Array(0..<n)
        order.shuffle(using: &gen)
        let k = Int((Double(n) * fraction).rounded())
        return (order[k...].sorted(), order[..<k].sorted())
    }
}
