import Analysis
import NNRuntime
import Testing

/// The packed bitset against a `[Bool]` oracle on random patterns, at lengths around word boundaries
/// where tail bits could leak into `==`, hashing, popcounts and complements.
@Suite struct BitsetTests {
    static let lengths = [0, 1, 5, 63, 64, 65, 127, 128, 129, 200]

    private func randomBools(_ count: Int, density: Float, _ rng: inout SeededGenerator) -> [Bool] {
        (0..<count).map { _ in rng.nextUniform() < density }
    }

    @Test(arguments: lengths)
    func operationsMatchBooleanOracle(count: Int) {
        var rng = SeededGenerator(seed: UInt64(1000 + count))
        for density: Float in [0.1, 0.5, 0.9] {
            let a = randomBools(count, density: density, &rng), b = randomBools(count, density: 0.5, &rng)
            let x = Bitset(a), y = Bitset(b)
            #expect(x.count == count && x.bools == a)
            #expect((0..<count).allSatisfy { x[$0] == a[$0] })
            #expect((x & y).bools == zip(a, b).map { $0 && $1 })
            #expect((x | y).bools == zip(a, b).map { $0 || $1 })
            #expect((x ^ y).bools == zip(a, b).map { $0 != $1 })
            #expect((~x).bools == a.map { !$0 })
            #expect(x.cardinality == a.filter { $0 }.count)
            #expect((~x).cardinality == count - x.cardinality)            // tail bits stay clear
            #expect(x.setIndices == a.indices.filter { a[$0] })
            var visited: [Int] = []
            x.forEachSetBit { visited.append($0) }
            #expect(visited == x.setIndices)
            #expect(x.hammingDistance(to: y) == zip(a, b).filter { $0 != $1 }.count)
            #expect(x.intersectionCount(y) == zip(a, b).filter { $0 && $1 }.count)
            #expect(x.isEmpty == !a.contains(true))
            #expect(~(~x) == x)
            #expect((x & ~x).isEmpty && (x | ~x).cardinality == count)
        }
    }

    @Test(arguments: lengths)
    func equalityAndHashingIgnoreNothingButTheBits(count: Int) {
        var rng = SeededGenerator(seed: UInt64(2000 + count))
        let a = randomBools(count, density: 0.4, &rng)
        // The same bits reached three ways: directly, through a double complement (which sets and then
        // clears tail bits) and bit by bit.
        var built = Bitset(count: count)
        for i in a.indices where a[i] { built[i] = true }
        let direct = Bitset(a), twice = ~(~direct)
        #expect(direct == built && direct == twice)
        #expect(Set([direct, built, twice]).count == 1)
        // Raw words with garbage past the end are cleaned on the way in.
        let dirty = Bitset(count: count, words: direct.words.enumerated().map { i, w in
            i == direct.words.count - 1 ? w | ~Bitset.tailMask(count) : w
        })
        #expect(dirty == direct && dirty.hashValue == direct.hashValue)
        if count > 0 {
            var flipped = direct
            flipped[count - 1].toggle()
            #expect(flipped != direct && flipped.hammingDistance(to: direct) == 1)
            flipped[count - 1].toggle()
            #expect(flipped == direct)
        }
        #expect(Bitset(count: count) != Bitset(count: count + 1))       // the length is part of the value
    }
}
