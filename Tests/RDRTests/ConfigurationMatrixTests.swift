import Analysis
import Foundation
import NNRuntime
import Testing
import TestSupport
@testable import RDR

/// The packed configuration matrix against `[Bool]` oracles: channel-major bit order of `[B, C, H,
/// W]` batches, Hamming distances and on counts (threaded and not) against plain loops, and the
/// binary file's round trip and refusal of damaged files.
@Suite struct ConfigurationMatrixTests {
    /// Values with exact zeros, negatives and positives, so `> 0` is tested at its edge.
    func batch(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
            let r = rng.nextUniform()
            return r < 0.2 ? 0 : r < 0.25 ? -0.0 : rng.nextNormal()
        })
    }

    @Test func bitsAreChannelMajorValueAboveZero() {
        let (c, h, w) = (5, 3, 7)                        // 105 units: one full word and a tail
        var m = ConfigurationMatrix(units: c * h * w)
        let first = batch([3, c, h, w], seed: 1), second = batch([2, c, h, w], seed: 2)
        m.append(first)
        m.append(second)
        m.append(Tensor(shape: [0, c, h, w], scalars: []))
        #expect(m.rows == 5 && m.wordsPerRow == 2 && m.words.count == 10)
        #expect(m.byteCount == 5 * 2 * 8)
        for (offset, t) in [(0, first), (3, second)] {
            for b in 0..<t.shape[0] {
                var oracle: [Bool] = []
                for ch in 0..<c { for y in 0..<h { for x in 0..<w { oracle.append(t[index: b, ch, y, x] > 0) } } }
                #expect(m.row(offset + b).bools == oracle)
                for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                    #expect(m[row: offset + b, unit: ch * h * w + y * w + x] == (t[index: b, ch, y, x] > 0))
                } } }
            }
        }
        // Tail bits of every row stay zero.
        #expect((0..<5).allSatisfy { m.words[$0 * 2 + 1] >> 41 == 0 })
    }

    @Test func flatBatchesAndBitsetRowsAgree() throws {
        let t = batch([4, 64], seed: 3)
        var a = ConfigurationMatrix(units: 64)
        a.append(t)
        var b = ConfigurationMatrix(units: 64)
        for r in 0..<4 { b.append(row: Bitset((0..<64).map { t[index: r, $0] > 0 })) }
        #expect(a.words == b.words && a.rows == 4 && a.wordsPerRow == 1)
        let c = try ConfigurationMatrix(units: 64, rows: 4, words: a.words)
        #expect(c.words == a.words)
        // Wrapped words get their tails cleared; a wrong word count is refused.
        let d = try ConfigurationMatrix(units: 3, rows: 2, words: [~0, 0b1010])
        #expect(d.words == [0b111, 0b010] && d.row(0).bools == [true, true, true])
        expectRDRError("do not hold 2 rows") { _ = try ConfigurationMatrix(units: 65, rows: 2, words: [0, 0, 0]) }
    }

    @Test(arguments: [(37, 1), (130, 64), (300, 129), (700, 200)])
    func distancesAndOnCountsMatchPlainLoops(rows: Int, units: Int) {
        var bools = clusteredRows(rows: rows, units: units, clusters: 3, flip: 0.3, seed: UInt64(rows + units))
        // A unit on in every row: its count passes 255, the most 8 bit planes hold between flushes.
        for r in bools.indices { bools[r][units - 1] = true }
        var m = ConfigurationMatrix(units: units)
        for r in bools { m.append(row: Bitset(r)) }
        // An all-on row drives the counters' carry through every plane.
        m.append(row: ~Bitset(count: units))
        let all = bools + [[Bool](repeating: true, count: units)]
        let counts = (0..<units).map { j in all.filter { $0[j] }.count }
        #expect(m.onCounts() == counts)
        for workers in [1, 3, 8] { #expect(m.onCounts(workers: workers) == counts, "\(workers) workers") }
        for target in [0, rows / 2, rows] {
            let expected = all.map { row in zip(row, all[target]).filter { $0 != $1 }.count }
            #expect(m.hammingDistances(to: m.row(target)) == expected)
            #expect(m.hammingDistances(to: m.row(target), workers: 3) == expected)
        }
        #expect(ConfigurationMatrix(units: units).onCounts() == [Int](repeating: 0, count: units))
        #expect(ConfigurationMatrix(units: units).hammingDistances(to: Bitset(count: units)).isEmpty)
    }

    @Test func fileRoundTripIsExact() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rdr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (rows, units) in [(0, 5), (1, 64), (13, 200)] {
            var m = ConfigurationMatrix(units: units)
            if rows > 0 { m.append(batch([rows, units], seed: UInt64(units))) }
            let url = dir.appendingPathComponent("m\(units).bin")
            try m.write(to: url)
            let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
            #expect(size == ConfigurationMatrix.headerSize + m.byteCount)
            let back = try ConfigurationMatrix.read(contentsOf: url)
            #expect(back.rows == m.rows && back.units == m.units && back.words == m.words)
        }
    }

    @Test func damagedFilesAreRefusedWithOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rdr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var m = ConfigurationMatrix(units: 100)
        m.append(batch([6, 100], seed: 4))
        let url = dir.appendingPathComponent("good.bin")
        try m.write(to: url)
        let good = [UInt8](try Data(contentsOf: url))
        let bad = dir.appendingPathComponent("bad.bin")
        func check(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try Data(bytes).write(to: bad)
            expectRDRError(fragment, sourceLocation: sourceLocation) { _ = try ConfigurationMatrix.read(contentsOf: bad) }
        }
        try check([], "shorter than the 40-byte header")
        try check(Array(good.prefix(39)), "shorter than the 40-byte header")
        try check(Array(good.dropLast()), "is truncated")
        try check(Array(good.prefix(100)), "is truncated")
        try check(good + [0], "longer than its header says")
        var bytes = good; bytes[0] = UInt8(ascii: "X")
        try check(bytes, "bad magic")
        bytes = good; bytes[8] = 2
        try check(bytes, "version 2")
        bytes = good; bytes[13] = 1
        try check(bytes, "reserved header field")
        bytes = good; bytes[23] = 0x80
        try check(bytes, "garbled: header says")
        bytes = good; bytes[16] = 7
        try check(bytes, "is truncated")
        bytes = good; bytes[ConfigurationMatrix.headerSize + 3] ^= 0x10
        try check(bytes, "checksum")
        // A set tail bit with a matching checksum is still refused.
        var words = m.words
        words[1] |= 1 << 40
        bytes = good
        withUnsafeBytes(of: ConfigurationMatrix.checksum(words).littleEndian) { bytes.replaceSubrange(32..<40, with: $0) }
        withUnsafeBytes(of: words[1].littleEndian) { bytes.replaceSubrange(48..<56, with: $0) }
        try check(bytes, "row 0 has bits set past unit 99")
        expectRDRError("cannot read") { _ = try ConfigurationMatrix.read(contentsOf: dir.appendingPathComponent("missing.bin")) }
        // Random damage: anything that changes the bytes is refused.
        var gen = SeededGenerator(seed: 77)
        for _ in 0..<60 {
            let damaged = Corruption.mutate(good, using: &gen)
            guard damaged != good else { continue }
            try Data(damaged).write(to: bad)
            let error = #expect(throws: RDRError.self) { _ = try ConfigurationMatrix.read(contentsOf: bad) }
            #expect(error.map { !"\($0)".contains("\n") } ?? true)
        }
    }
}
