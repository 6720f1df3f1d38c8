/// A fixed-length set of bits packed 64 to a `UInt64` word, for the Boolean masks of concept-based
/// methods: INVERT evaluates tens of thousands of candidate formulas per neuron as AND/OR/NOT of
/// concept masks (METHODS.md §2.10), and RDR compares activation patterns by Hamming distance. Both
/// are word-parallel here: 64 images per instruction, popcount for sizes and distances.
///
/// Bits past `count` in the last word are always zero, so synthesised `==` and hashing compare exactly
/// the `count` bits, and ``cardinality`` can popcount whole words.
///
/// ```swift
/// var a = Bitset(count: 100)
/// a[3] = true
/// let b = Bitset((0..<100).map { $0 % 2 == 1 })
/// (a & b).cardinality      // 1
/// (~b).cardinality         // 50
/// ```
public struct Bitset: Hashable, Sendable, CustomStringConvertible {
    /// Number of bits.
    public let count: Int
    /// The packed bits: bit `i` is bit `i % 64` of word `i / 64`; unused high bits of the last word are 0.
    public private(set) var words: [UInt64]

    /// `count` zero bits.
    public init(count: Int) {
        precondition(count >= 0, "Bitset: negative count \(count)")
        self.count = count
        self.words = [UInt64](repeating: 0, count: Bitset.wordCount(count))
    }

    /// One bit per Boolean, in order.
    public init(_ bools: [Bool]) {
        self.init(count: bools.count)
        for (i, bit) in bools.enumerated() where bit { words[i >> 6] |= 1 << UInt64(i & 63) }
    }

    /// Wraps packed words; bits past `count` are cleared so the tail invariant holds.
    public init(count: Int, words: [UInt64]) {
        precondition(words.count == Bitset.wordCount(count),
                     "Bitset: \(words.count) words for \(count) bits, expected \(Bitset.wordCount(count))")
        self.count = count
        self.words = words
        clearTail()
    }

    /// Number of words needed for `count` bits.
    @inlinable public static func wordCount(_ count: Int) -> Int { (count + 63) >> 6 }

    /// The bits of the last word that belong to the set (all ones when `count` is a multiple of 64);
    /// kernels that complement words on the fly mask the last word with it.
    @inlinable public static func tailMask(_ count: Int) -> UInt64 {
        let r = count & 63
        return r == 0 ? ~0 : (1 << UInt64(r)) &- 1
    }

    private mutating func clearTail() {
        if !words.isEmpty { words[words.count - 1] &= Bitset.tailMask(count) }
    }

    /// Bit `i`.
    public subscript(i: Int) -> Bool {
        get {
            precondition(i >= 0 && i < count, "Bitset: index \(i) out of range 0..<\(count)")
            return words[i >> 6] & (1 << UInt64(i & 63)) != 0
        }
        set {
            precondition(i >= 0 && i < count, "Bitset: index \(i) out of range 0..<\(count)")
            if newValue { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
        }
    }

    /// Number of set bits (popcount).
    public var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Whether no bit is set.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The bits as Booleans.
    public var bools: [Bool] { (0..<count).map { self[$0] } }

    /// Calls `body` with the index of every set bit, ascending. Walks words and peels the lowest set
    /// bit with `trailingZeroBitCount`, so sparse masks cost O(words + set bits), not O(count).
    @inlinable
    public func forEachSetBit(_ body: (Int) throws -> Void) rethrows {
        for (w, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                try body((w << 6) + bits.trailingZeroBitCount)
                bits &= bits &- 1
            }
        }
    }

    /// Indices of the set bits, ascending.
    public var setIndices: [Int] {
        var out: [Int] = []
        out.reserveCapacity(cardinality)
        forEachSetBit { out.append($0) }
        return out
    }

    /// Number of positions where the two sets differ: popcount of the XOR.
    public func hammingDistance(to other: Bitset) -> Int {
        precondition(count == other.count, "Bitset: Hamming distance of \(count) and \(other.count) bits")
        var d = 0
        for i in words.indices { d += (words[i] ^ other.words[i]).nonzeroBitCount }
        return d
    }

    /// Number of set bits of `self & other` without building it.
    public func intersectionCount(_ other: Bitset) -> Int {
        precondition(count == other.count, "Bitset: intersection of \(count) and \(other.count) bits")
        var c = 0
        for i in words.indices { c += (words[i] & other.words[i]).nonzeroBitCount }
        return c
    }

    /// Bitwise AND.
    public static func & (lhs: Bitset, rhs: Bitset) -> Bitset {
        combine(lhs, rhs) { $0 & $1 }
    }

    /// Bitwise OR.
    public static func | (lhs: Bitset, rhs: Bitset) -> Bitset {
        combine(lhs, rhs) { $0 | $1 }
    }

    /// Bitwise XOR.
    public static func ^ (lhs: Bitset, rhs: Bitset) -> Bitset {
        combine(lhs, rhs) { $0 ^ $1 }
    }

    /// Complement; the tail bits stay zero.
    public static prefix func ~ (operand: Bitset) -> Bitset {
        var out = operand
        for i in out.words.indices { out.words[i] = ~out.words[i] }
        out.clearTail()
        return out
    }

    /// In-place AND.
    public static func &= (lhs: inout Bitset, rhs: Bitset) { lhs = lhs & rhs }
    /// In-place OR.
    public static func |= (lhs: inout Bitset, rhs: Bitset) { lhs = lhs | rhs }

    private static func combine(_ lhs: Bitset, _ rhs: Bitset, _ op: (UInt64, UInt64) -> UInt64) -> Bitset {
        precondition(lhs.count == rhs.count, "Bitset: combining \(lhs.count) and \(rhs.count) bits")
        var out = lhs
        for i in out.words.indices { out.words[i] = op(lhs.words[i], rhs.words[i]) }
        return out
    }

    /// "0110…" with bit 0 first.
    public var description: String { String(bools.map { $0 ? "1" : "0" }) }
}
