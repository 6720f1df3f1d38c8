import Analysis
import Foundation
import NNRuntime

/// The on/off configurations of a reference set: one row per instance, one bit per unit of the
/// configuration layer, packed 64 units to a `UInt64` word.
///
/// RDR (Chang, Kwon, Choi, "Understanding Distributed Representations of Concepts in Deep Neural
/// Networks without Supervision", AAAI 2024, arXiv 2312.17285) only ever asks two things of the
/// configurations: Hamming distances from one target to every row, and per-unit on-rates. Both work
/// on whole words, so the matrix keeps the bits packed rather than as the reference's dense float64
/// arrays (METHODS.md §3.9: 3.1 GB for 30.7k Mini-ImageNet images at 84², 25 GB at 224²; packed,
/// the same data takes 48 MB and 390 MB).
///
/// Rows are stored back to back, ⌈units/64⌉ words each, with the bits past `units` in a row's last
/// word always zero, so popcounts over whole words count exactly the row's units.
///
/// ```swift
/// var m = ConfigurationMatrix(units: layer.units)
/// m.append(configurationBatch)                 // [B, C, H, W]: bit = value > 0
/// let d = m.hammingDistances(to: m.row(0))     // one distance per row
/// ```
public struct ConfigurationMatrix: Sendable {
    /// Bits per row.
    public let units: Int
    /// Words per row: ⌈units / 64⌉.
    public let wordsPerRow: Int
    /// Number of rows (instances).
    public private(set) var rows: Int
    /// The packed rows, row-major: unit `j` of row `i` is bit `j % 64` of word `i·wordsPerRow + j/64`.
    public private(set) var words: [UInt64]

    /// An empty matrix whose rows will have `units` bits.
    public init(units: Int) {
        precondition(units > 0, "ConfigurationMatrix: need at least one unit, got \(units)")
        self.units = units
        self.wordsPerRow = Bitset.wordCount(units)
        self.rows = 0
        self.words = []
    }

    /// Wraps packed rows (`rows · ⌈units/64⌉` words, as ``words`` lays them out); bits past `units`
    /// in each row are cleared so the tail invariant holds. For bulk builders (benchmarks, readers)
    /// that would otherwise copy every row through a ``Bitset``. Pass the array with `consume` to
    /// hand over its buffer without a copy.
    public init(units: Int, rows: Int, words: consuming [UInt64]) throws {
        guard units > 0, rows >= 0 else { throw RDRError("a configuration matrix needs units > 0 and rows ≥ 0, got \(units) units and \(rows) rows") }
        let perRow = Bitset.wordCount(units)
        guard rows.multipliedReportingOverflow(by: perRow) == (words.count, false) else {
            throw RDRError("\(words.count) words do not hold \(rows) rows of \(units) units (\(perRow) words a row)")
        }
        self.units = units
        self.wordsPerRow = perRow
        self.rows = rows
        self.words = consume words
        let mask = Bitset.tailMask(units)
        if mask != ~0 { for r in 0..<rows { self.words[r * perRow + perRow - 1] &= mask } }
    }

    /// Bytes held by the packed bits: rows · ⌈units/64⌉ · 8.
    public var byteCount: Int { words.count * MemoryLayout<UInt64>.size }

    /// Reserves storage for `rows` rows in total, so that appending a known number of batches does
    /// not reallocate (and transiently double) a matrix of hundreds of megabytes.
    public mutating func reserveCapacity(rows: Int) {
        words.reserveCapacity(rows * wordsPerRow)
    }

    /// Appends one row per instance of a batch of configuration-layer outputs, `[B, C, H, W]` or
    /// `[B, D]` (any `[B, …]` whose trailing size is ``units``): bit = value > 0, flattened
    /// channel-major as the tensor is laid out. For ReLU-family activations output > 0 exactly when
    /// the pre-activation is, so this is the reference's 1[z > 0].
    public mutating func append(_ activations: Tensor) {
        precondition(activations.rank >= 2, "ConfigurationMatrix: expected a [B, …] batch, got shape \(activations.shape)")
        let batch = activations.shape[0]
        precondition(activations.count == batch * units,
                     "ConfigurationMatrix: a batch of shape \(activations.shape) does not have \(units) units per row")
        guard batch > 0 else { return }
        let start = words.count
        words.append(contentsOf: repeatElement(0, count: batch * wordsPerRow))
        let (units, perRow) = (self.units, wordsPerRow)
        activations.withUnsafeBufferPointer { src in
            words.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    let x = src.baseAddress! + b * units
                    let row = dst.baseAddress! + start + b * perRow
                    for w in 0..<perRow {
                        let lo = w << 6, n = Swift.min(64, units - lo)
                        var word: UInt64 = 0
                        for i in 0..<n where x[lo + i] > 0 { word |= 1 << UInt64(i) }
                        row[w] = word
                    }
                }
            }
        }
        rows += batch
    }

    /// Appends one row.
    public mutating func append(row: Bitset) {
        precondition(row.count == units, "ConfigurationMatrix: a row of \(row.count) bits for \(units) units")
        words.append(contentsOf: row.words)
        rows += 1
    }

    /// Row `i` as a bitset.
    public func row(_ i: Int) -> Bitset {
        precondition(i >= 0 && i < rows, "ConfigurationMatrix: row \(i) out of range 0..<\(rows)")
        let start = i * wordsPerRow
        return Bitset(count: units, words: Array(words[start..<start + wordsPerRow]))
    }

    /// Unit `unit` of row `row`.
    public subscript(row row: Int, unit unit: Int) -> Bool {
        precondition(row >= 0 && row < rows, "ConfigurationMatrix: row \(row) out of range 0..<\(rows)")
        precondition(unit >= 0 && unit < units, "ConfigurationMatrix: unit \(unit) out of range 0..<\(units)")
        return words[row * wordsPerRow + unit >> 6] & (1 << UInt64(unit & 63)) != 0
    }

    /// The configuration distance d_C of METHODS.md §3.3 from `target` to every row: popcount of the
    /// XOR, word by word, threaded over blocks of rows.
    public func hammingDistances(to target: Bitset) -> [Int] { hammingDistances(to: target, workers: nil) }

    /// ``hammingDistances(to:)`` over `workers` row blocks (nil: by size), so tests reach the
    /// threaded path on small matrices.
    func hammingDistances(to target: Bitset, workers: Int?) -> [Int] {
        precondition(target.count == units, "ConfigurationMatrix: a target of \(target.count) bits for \(units) units")
        var out = [Int](repeating: 0, count: rows)
        guard rows > 0 else { return out }
        let perRow = wordsPerRow
        words.withUnsafeBufferPointer { m in target.words.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { d in
                let (base, tw, dist) = (m.baseAddress!, t.baseAddress!, d.baseAddress!)
                forEachRowBlock(workers: workers) { range in
                    for r in range {
                        let row = base + r * perRow
                        var sum = 0
                        for w in 0..<perRow { sum &+= (row[w] ^ tw[w]).nonzeroBitCount }
                        dist[r] = sum
                    }
                }
            }
        } }
        return out
    }

    /// Number of rows in which each unit is on (N·q_j in METHODS.md §3.4).
    ///
    /// Counted word-wise with bit-sliced counters: for a block of rows, plane p holds bit p of 64
    /// per-unit counts at once, and adding a row word is a carry ripple of ANDs and XORs that
    /// usually stops after a plane or two. Every 255 rows the 8 planes are flushed into integer
    /// counts. That is a few word operations per row word instead of one per set bit; blocks of rows
    /// run on all cores and their counts are summed.
    public func onCounts() -> [Int] { onCounts(workers: nil) }

    /// ``onCounts()`` over `workers` row blocks (nil: by size).
    func onCounts(workers: Int?) -> [Int] {
        let perRow = wordsPerRow, units = self.units
        guard rows > 0 else { return [Int](repeating: 0, count: units) }
        let blocks = rowBlocks(workers: workers)
        var partial = [[Int]](repeating: [], count: blocks.count)
        partial.withUnsafeMutableBufferPointer { slots in
            let out = slots.baseAddress!
            words.withUnsafeBufferPointer { m in
                let base = m.baseAddress!
                let body = { (b: Int) in
                    var counts = [Int](repeating: 0, count: perRow * 64)
                    let planeCount = 8, flushEvery = (1 << planeCount) - 1
                    var planes = [UInt64](repeating: 0, count: perRow * planeCount)
                    counts.withUnsafeMutableBufferPointer { c in planes.withUnsafeMutableBufferPointer { p in
                        let (cs, ps) = (c.baseAddress!, p.baseAddress!)
                        var pending = 0
                        for r in blocks[b] {
                            let row = base + r * perRow
                            for w in 0..<perRow {
                                var carry = row[w]
                                var plane = ps + w * planeCount
                                while carry != 0 {
                                    let next = plane.pointee & carry
                                    plane.pointee ^= carry
                                    carry = next
                                    plane += 1
                                }
                            }
                            pending += 1
                            if pending == flushEvery { flush(ps, cs, perRow, planeCount); pending = 0 }
                        }
                        if pending > 0 { flush(ps, cs, perRow, planeCount) }
                    } }
                    out[b] = counts
                }
                if blocks.count == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: blocks.count, execute: body) }
            }
        }
        var total = [Int](repeating: 0, count: units)
        for counts in partial { for j in 0..<units { total[j] += counts[j] } }
        return total
    }

    /// Adds the bit-sliced counts of `planes` into `counts` and clears the planes.
    private func flush(_ planes: UnsafeMutablePointer<UInt64>, _ counts: UnsafeMutablePointer<Int>,
                       _ perRow: Int, _ planeCount: Int) {
        for w in 0..<perRow {
            for p in 0..<planeCount {
                var bits = planes[w * planeCount + p]
                planes[w * planeCount + p] = 0
                while bits != 0 {
                    counts[(w << 6) + bits.trailingZeroBitCount] += 1 << p
                    bits &= bits &- 1
                }
            }
        }
    }

    /// Contiguous row ranges, one per core when the matrix is large enough to be worth threading.
    func rowBlocks(workers requested: Int? = nil) -> [Range<Int>] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Below about a million words a single thread finishes before workers would start.
        let workers = Swift.max(1, Swift.min(rows, requested ?? Swift.min(cores, words.count / (1 << 20) + 1)))
        let size = (rows + workers - 1) / workers
        return (0..<workers).map { w in (w * size)..<Swift.min(rows, (w + 1) * size) }.filter { !$0.isEmpty }
    }

    /// Runs `body` over the row blocks, concurrently when there is more than one.
    func forEachRowBlock(workers: Int? = nil, _ body: (Range<Int>) -> Void) {
        let blocks = rowBlocks(workers: workers)
        if blocks.count <= 1 { blocks.forEach(body); return }
        DispatchQueue.concurrentPerform(iterations: blocks.count) { body(blocks[$0]) }
    }
}
