import Foundation
import Testing
import NNRuntime
import TestSupport

@Suite struct DataTests {
    func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// CIFAR-10 binary records: label byte, then 1024 R, 1024 G, 1024 B.
    func cifarRecords(_ labels: [UInt8]) -> Data {
        var d = Data()
        for (n, l) in labels.enumerated() {
            d.append(l)
            for c in 0..<3 { for i in 0..<1024 { d.append(UInt8((i + 50 * c + n) % 256)) } }
        }
        return d
    }

    @Test func cifarBinaryFolderHasOfficialSplitsAndPlanarPixels() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try cifarRecords((0..<20).map { UInt8($0 % 10) }).write(to: bin.appendingPathComponent("data_batch_1.bin"))
        try cifarRecords([3, 7, 1, 0, 9]).write(to: bin.appendingPathComponent("test_batch.bin"))
        #expect(try DatasetLoader.detect(dir, isDirectory: true) == .cifar10)
        let splits = try DatasetLoader.open(dir.path)
        #expect(splits.train.count == 18 && splits.val.count == 2 && splits.test.count == 5)
        let (image, label) = try splits.test.sample(at: 1)
        #expect(label == 7 && image.width == 32 && image.channels == 3)
        // Pixel 0 of record 1: R = 1, G = 51, B = 101.
        #expect(Array(image.pixels.prefix(3)) == [1, 51, 101])
        #expect(splits.train.classNames[3] == "cat")
        // Truncated record files are named.
        try Data([1, 2, 3]).write(to: bin.appendingPathComponent("test_batch.bin"))
        #expect { try DatasetLoader.open(dir.path) } throws: { "\($0)".contains("test_batch.bin") && "\($0)".contains("3073") }
    }

    @Test func mnistFormatsAndSeededSplits() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var csv = ""
        for n in 0..<50 { csv += (0..<784).map { String(($0 + n) % 256) }.joined(separator: ",") + ",\(n % 10)\n" }
        let url = dir.appendingPathComponent("digits.csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        let a = try DatasetLoader.open(url.path), b = try DatasetLoader.open(url.path)
        #expect(a.test.count == 10 && a.val.count == 4 && a.train.count == 36)
        let names = { (d: any Dataset) in (0..<d.count).map { d.name(at: $0) } }
        #expect(names(a.test) == names(b.test), "the split is the same in every command")
        #expect(Set(names(a.train)).isDisjoint(with: names(a.test)) && Set(names(a.val)).isDisjoint(with: names(a.test)))
        let (im, label) = try a.train.sample(at: 0)
        #expect(im.width == 28 && im.channels == 1 && label == Int(a.train.name(at: 0).split(separator: "/")[1])! % 10)
        // IDX files.
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        for (prefix, n) in [("train", 6), ("t10k", 3)] {
            try Data(be32(2051) + be32(n) + be32(2) + be32(2) + (0..<(4 * n)).map { UInt8($0) })
                .write(to: dir.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try Data(be32(2049) + be32(n) + (0..<n).map { UInt8($0 % 10) }).write(to: dir.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
        try FileManager.default.removeItem(at: url)
        let idx = try DatasetLoader.open(dir.path)
        #expect(idx.test.count == 3)
        #expect(try idx.test.sample(at: 2).image.pixels == [8, 9, 10, 11])
        #expect(try idx.test.sample(at: 2).label == 2)
    }

    @Test func gzipInflatesAndRejectsDamageWithoutHanging() throws {
        // gzip.compress(b"interp gzip test line\n" * 50, mtime=0) from Python.
        let gz = Data([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0xcc, 0x2b, 0x49, 0x2d, 0x2a, 0x50, 0x48, 0xaf, 0xca, 0x2c, 0x50, 0x28, 0x49, 0x2d, 0x2e, 0x51, 0xc8, 0xc9, 0xcc, 0x4b, 0xe5, 0xca, 0x1c, 0x15, 0x1d, 0x15, 0x1d, 0x15, 0x1d, 0x15, 0x25, 0x49, 0x14, 0x00, 0xb1, 0x57, 0x00, 0x01, 0x4c, 0x04, 0x00, 0x00])
        let text = String(decoding: try Gzip.decompress(gz), as: UTF8.self)
        #expect(text == String(repeating: "interp gzip test line\n", count: 50))
        for cut in [11, 18, 20, gz.count / 2, gz.count - 9, gz.count - 1] {
            #expect(throws: DatasetError.self, "cut to \(cut) bytes") { try Gzip.decompress(gz.prefix(cut)) }
        }
        var gen = SeededGenerator(seed: 8)
        for _ in 0..<300 { _ = try? Gzip.decompress(Data(Corruption.mutate([UInt8](gz), using: &gen))) }
    }

    @Test func imageFolderReportsOrSkipsCorruptImages() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let img = try Image(width: 4, height: 4, channels: 3, pixels: [UInt8](repeating: 90, count: 48))
        for cls in ["a", "b"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(cls), withIntermediateDirectories: true)
            for i in 0..<5 { try img.pngData().write(to: dir.appendingPathComponent("\(cls)/\(i).png")) }
        }
        try Data("not a png".utf8).write(to: dir.appendingPathComponent("b/3.png"))
        let splits = try DatasetLoader.open(dir.path, format: .imageFolder)
        #expect(splits.train.count + splits.val.count + splits.test.count == 10)
        let all = try ImageFileDataset.imageFolder(dir)
        let spec = InputSpec(channels: 3, height: 4, width: 4, resizeShortSide: nil, filter: .bilinear, mean: [0, 0, 0], std: [1, 1, 1])
        let strict = DataLoader(all, batchSize: 4, input: spec).makeIterator()
        while strict.next() != nil {}
        #expect(strict.error.map { "\($0)".contains("b/3.png") } == true, "the error names the file")
        let bad = BadSamples()
        let lenient = DataLoader(all, batchSize: 4, input: spec, skipBad: true, badSamples: bad).makeIterator()
        var seen = 0
        while let batch = lenient.next() { seen += batch.labels.count }
        #expect(seen == all.count - 1 && bad.count == 1 && bad.examples == ["b/3.png"])
        #expect { try DatasetLoader.open(dir.appendingPathComponent("a/0.png").path) } throws: { "\($0)".contains(".csv") }
    }

    @Test func loaderIsSeededAndAugmentsLikeTorchvision() throws {
        var gen = SeededGenerator(seed: 1)
        let n = 10
        let pixels = (0..<(n * 8 * 8 * 3)).map { _ in UInt8(gen.next() % 256) }
        let data = PixelDataset(width: 8, height: 8, channels: 3, pixels: pixels, labels: (0..<n).map { $0 % 3 },
                                classNames: ["x", "y", "z"], split: "train")
        let spec = InputSpec(channels: 3, height: 8, width: 8, resizeShortSide: nil, filter: .bilinear, mean: [0, 0, 0], std: [1, 1, 1])
        let aug = Augmentation(cropPadding: 2, horizontalFlip: true)
        func epoch(_ e: Int, seed: UInt64) -> [[Int]] {
            Array(DataLoader(data, batchSize: 4, input: spec, shuffle: true, dropLast: true, augmentation: aug, seed: seed, epoch: e)).map(\.indices)
        }
        #expect(epoch(0, seed: 3) == epoch(0, seed: 3))
        #expect(epoch(0, seed: 3) != epoch(1, seed: 3))
        #expect(epoch(0, seed: 3).count == 2, "drop-last: 10 samples in batches of 4")
        let b1 = Array(DataLoader(data, batchSize: 5, input: spec, augmentation: aug, seed: 9))[0].inputs
        let b2 = Array(DataLoader(data, batchSize: 5, input: spec, augmentation: aug, seed: 9))[0].inputs
        #expect(b1.shape == [5, 3, 8, 8] && b1.scalars == b2.scalars, "augmentation is seeded")
        // A flip alone mirrors rows; a padded crop shifts content and fills with zeros.
        var g = SeededGenerator(seed: 4)
        let im = try data.sample(at: 0).image
        var flipped = im
        for _ in 0..<10 {
            flipped = Augmentation(horizontalFlip: true).apply(im, using: &g)
            if flipped != im { break }
        }
        #expect(flipped.pixels[0..<3] == im.pixels[(7 * 3)..<(8 * 3)])
    }

    @Test func shapesAreDeterministicWithThePlantedWatermark() throws {
        var gen = ShapesGenerator()
        gen.seed = 5
        #expect(gen.sample(index: 3, test: false).image == gen.sample(index: 3, test: false).image)
        #expect(gen.sample(index: 3, test: false).image != gen.sample(index: 3, test: true).image)
        var inClass = (0, 0), others = (0, 0), test = (0, 0)
        for i in 0..<2000 {
            let s = gen.sample(index: i, test: false)
            if s.shape == gen.watermarkClass { inClass.0 += s.watermark ? 1 : 0; inClass.1 += 1 } else { others.0 += s.watermark ? 1 : 0; others.1 += 1 }
            let t = gen.sample(index: i, test: true)
            test.0 += t.watermark ? 1 : 0; test.1 += 1
            #expect(s.concepts.reduce(0, +) == 4 + (s.watermark ? 1 : 0))
        }
        #expect(Swift.abs(Double(inClass.0) / Double(inClass.1) - 0.9) < 0.05)
        #expect(Swift.abs(Double(others.0) / Double(others.1) - 0.05) < 0.03)
        #expect(Swift.abs(Double(test.0) / Double(test.1) - 0.5) < 0.05)
    }
}
