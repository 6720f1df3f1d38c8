import Analysis
import Foundation
import NNRuntime
import Testing
import TestSupport
@testable import RDR

/// The committed reference written by Tests/Reference/make_rdr_fixtures.py (numpy, plain loops,
/// exact fractions) under Tests/TestSupport/Fixtures/rdr/.
enum RDRFixtures {
    struct Regions: Decodable {
        struct Expected: Decodable {
            var k: Int
            var t: Int
            /// The target row, or nil for an external target (then `external` indexes the case's list).
            var target: Int?
            var external: Int?
            var neighbours: [[Int]]
            var principalUnits: [Int]
            var states: [Bool]
            var scores: [Double]
            var candidates: Int
            var members: [Int]
        }
        struct Case: Decodable {
            var name: String
            /// One "0110…" string per row, unit 0 first.
            var rows: [String]
            var labels: [Int]
            var external: [String]
            var regions: [Expected]

            func matrix() -> ConfigurationMatrix { ConfigurationMatrix(strings: rows) }
        }
        var cases: [Case]
    }

    static func regions() throws -> Regions {
        let data = try Data(contentsOf: Fixtures.url("rdr/regions.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Regions.self, from: data)
    }
}

extension Bitset {
    /// "0110…" with unit 0 first, as the fixtures and hand examples write rows.
    init(string: String) { self.init(string.map { $0 == "1" }) }
}

extension ConfigurationMatrix {
    /// A matrix from "0110…" rows.
    init(strings: [String]) {
        self.init(units: strings[0].count)
        for s in strings { append(row: Bitset(string: s)) }
    }

    /// Every row as Booleans, for the plain-loop oracles.
    var boolRows: [[Bool]] { (0..<rows).map { row($0).bools } }
}

/// Seeded configurations with cluster structure: rows are noisy copies of `clusters` prototypes,
/// plus a few exact duplicates, so neighbourhoods are meaningful and distances tie.
func clusteredRows(rows: Int, units: Int, clusters: Int, flip: Float, seed: UInt64) -> [[Bool]] {
    var rng = SeededGenerator(seed: seed)
    let prototypes = (0..<clusters).map { _ in (0..<units).map { _ in rng.nextUniform() < 0.5 } }
    var out = (0..<rows).map { _ -> [Bool] in
        let p = prototypes[Int(rng.next() % UInt64(clusters))]
        return p.map { rng.nextUniform() < flip ? !$0 : $0 }
    }
    for _ in 0..<(rows / 10) { out[Int(rng.next() % UInt64(rows))] = out[Int(rng.next() % UInt64(rows))] }
    return out
}

/// The selection of METHODS.md §3.4 written as directly as possible over `[[Bool]]`: a full sort of
/// all rows, p and q as exact rationals compared by cross-multiplication, a full sort of candidates.
func oracleRegion(_ c: [[Bool]], seed: [[Bool]], neighbours: [(index: Int, distance: Int)], k: Int, t: Int)
    -> (principal: [Int], states: [Bool], numerators: [Int], candidates: Int, members: [Int]) {
    let n = c.count, d = c[0].count
    var candidates: [(unit: Int, on: Bool, numerator: Int)] = []
    for j in 0..<d {
        let onInSeed = seed.filter { $0[j] }.count
        guard onInSeed == 0 || onInSeed == k else { continue }
        let onAll = c.filter { $0[j] }.count
        // |p − q| · N with p ∈ {0, 1}.
        candidates.append((j, onInSeed == k, onInSeed == k ? n - onAll : onAll))
    }
    let ranked = candidates.sorted { ($0.numerator, -$0.unit) > ($1.numerator, -$1.unit) }.prefix(t)
    let members = (0..<n).filter { i in ranked.allSatisfy { c[i][$0.unit] == $0.on } }
    return (ranked.map(\.unit), ranked.map(\.on), ranked.map(\.numerator), candidates.count, members)
}

/// Neighbours of row `target` by a full sort: the target first, then (distance, index).
func oracleNeighbours(_ c: [[Bool]], target: Int, k: Int) -> [(index: Int, distance: Int)] {
    let d = c.map { row in zip(row, c[target]).filter { $0 != $1 }.count }
    let order = c.indices.sorted { ($0 == target ? 0 : 1, d[$0], $0) < ($1 == target ? 0 : 1, d[$1], $1) }
    return order.prefix(k).map { ($0, d[$0]) }
}

/// Expects `body` to throw an ``RDRError`` whose one-line message contains `fragment`.
func expectRDRError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws -> Void) {
    let error = #expect(throws: RDRError.self, sourceLocation: sourceLocation) { try body() }
    guard let text = error.map({ "\($0)" }) else { return }
    #expect(text.contains(fragment) && !text.contains("\n"), "\(text)", sourceLocation: sourceLocation)
}
