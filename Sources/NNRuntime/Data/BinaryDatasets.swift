import Foundation

/// Datasets stored as arrays of pixels: CIFAR-10/100 binary batches, MNIST IDX files and the
/// `mnist_5k.csv.gz` layout (784 pixels then the label per row).
public struct PixelDataset: Dataset {
    public let width: Int, height: Int, channels: Int
    /// HWC pixels of every sample, back to back.
    let pixels: [UInt8]
    public let labels: [Int]
    public let classNames: [String]
    let split: String
    public var count: Int { labels.count }

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8], labels: [Int], classNames: [String], split: String) {
        precondition(pixels.count == width * height * channels * labels.count, "PixelDataset: pixel count does not match")
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
        (self.labels, self.classNames, self.split) = (labels, classNames, split)
    }

    public func sample(at index: Int) throws -> (image: Image, label: Int) {
        let size = width * height * channels
        return (try Image(width: width, height: height, channels: channels,
                          pixels: Array(pixels[index * size..<(index + 1) * size])), labels[index])
    }

    public func name(at index: Int) -> String { "\(split)/\(index)" }

    // MARK: - CIFAR

    static let cifar10Classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    /// CIFAR binary records (`label` or `coarse fine` bytes, then 1024 R, 1024 G, 1024 B) from
    /// `files`; CIFAR-100 uses the fine label.
    public static func cifar(_ files: [URL], hundred: Bool, classNames: [String]?, split: String) throws -> PixelDataset {
        let record = (hundred ? 2 : 1) + 3072
        var pixels: [UInt8] = [], labels: [Int] = []
        for url in files {
            let data: [UInt8]
            do { data = [UInt8](try Data(contentsOf: url)) } catch { throw DatasetError("\(url.path): unreadable") }
            guard !data.isEmpty, data.count % record == 0 else {
                throw DatasetError("\(url.lastPathComponent): \(data.count) bytes is not a whole number of \(record)-byte CIFAR records")
            }
            pixels.reserveCapacity(pixels.count + data.count)
            for start in stride(from: 0, to: data.count, by: record) {
                labels.append(Int(data[start + record - 3073]))
                let body = start + record - 3072
                for i in 0..<1024 { for c in 0..<3 { pixels.append(data[body + c * 1024 + i]) } }
            }
        }
        let classCount = hundred ? 100 : 10
        if let bad = labels.first(where: { $0 >= classCount }) { throw DatasetError("CIFAR label \(bad) is outside 0..<\(classCount)") }
        return PixelDataset(width: 32, height: 32, channels: 3, pixels: pixels, labels: labels,
                            classNames: classNames ?? (hundred ? (0..<100).map(String.init) : cifar10Classes), split: split)
    }

    // MARK: - MNIST

    static func readMaybeGzip(_ url: URL) throws -> [UInt8] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw DatasetError("\(url.path): unreadable") }
        do { return [UInt8](Gzip.isGzip(data) ? try Gzip.decompress(data) : data) } catch let e as DatasetError {
            throw DatasetError("\(url.lastPathComponent): \(e.description)")
        }
    }

    /// MNIST IDX: an images file (magic 2051, count, rows, cols, pixels) and a labels file (2049).
    public static func mnistIDX(images: URL, labels: URL, split: String) throws -> PixelDataset {
        let im = try readMaybeGzip(images), lb = try readMaybeGzip(labels)
        func be32(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        guard im.count >= 16, be32(im, 0) == 2051 else { throw DatasetError("\(images.lastPathComponent): not an IDX image file (magic 2051)") }
        guard lb.count >= 8, be32(lb, 0) == 2049 else { throw DatasetError("\(labels.lastPathComponent): not an IDX label file (magic 2049)") }
        let (n, rows, cols) = (be32(im, 4), be32(im, 8), be32(im, 12))
        guard n == be32(lb, 4), rows > 0, cols > 0, im.count == 16 + n * rows * cols, lb.count == 8 + n else {
            throw DatasetError("\(images.lastPathComponent)/\(labels.lastPathComponent): counts or sizes disagree with the file lengths")
        }
        return PixelDataset(width: cols, height: rows, channels: 1, pixels: Array(im[16...]), labels: lb[8...].map(Int.init),
                            classNames: (0..<10).map(String.init), split: split)
    }

    /// `mnist_5k.csv.gz`: rows of 784 pixel values (0–255) followed by the label.
    public static func mnistCSV(_ url: URL) throws -> PixelDataset {
        let text = String(decoding: try readMaybeGzip(url), as: UTF8.self)
        var pixels: [UInt8] = [], labels: [Int] = []
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let values = line.split(separator: ",")
            guard values.count == 785 else { throw DatasetError("\(url.lastPathComponent) row \(n + 1): \(values.count) values, expected 785 (784 pixels + label)") }
            for v in values.prefix(784) {
                guard let p = UInt8(v.trimmingCharacters(in: .whitespaces)) else { throw DatasetError("\(url.lastPathComponent) row \(n + 1): pixel '\(v)' is not 0–255") }
                pixels.append(p)
            }
            guard let label = Int(values[784].trimmingCharacters(in: .whitespaces)), (0..<10).contains(label) else {
                throw DatasetError("\(url.lastPathComponent) row \(n + 1): label '\(values[784])' is not 0–9")
            }
            labels.append(label)
        }
        return PixelDataset(width: 28, height: 28, channels: 1, pixels: pixels, labels: labels,
                            classNames: (0..<10).map(String.init), split: "all")
    }
}
