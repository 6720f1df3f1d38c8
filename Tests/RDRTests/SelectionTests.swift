import Analysis
import NNRuntime
import Testing
@testable import RDR

/// RDR's selection on an 8 × 12 matrix worked out by hand, and its invariants (METHODS.md §3.8) on
/// random clustered matrices against a plain-loop oracle.
@Suite struct SelectionTests {
    /// Rows 0–7, unit 0 first. Hamming distances from row 0: 0, 2, 2, 10, 10, 8, 1, 5.
    /// On counts per unit (N = 8): 5 5 4 3 4 4 5 5 3 0 5 5.
    static let hand = ConfigurationMatrix(strings: [
        "110010100011",
        "110010110001",
        "110011000011",
        "001101011010",
        "001101111000",
        "101101010010",
        "110000100011",
        "011010111001",
    ])

    @Test func handComputedRegionOfRow0() throws {
        #expect(Self.hand.onCounts() == [5, 5, 4, 3, 4, 4, 5, 5, 3, 0, 5, 5])
        let rdr = try RDR(configurations: Self.hand, settings: RegionSettings(k: 3, t: 2))
        let r = try rdr.region(forRow: 0)
        // S = rows 0, 6, 1 (rows 1 and 2 tie at distance 2: the lower index wins).
        #expect(r.target == 0)
        #expect(r.neighbours.map(\.index) == [0, 6, 1] && r.neighbours.map(\.distance) == [0, 1, 2])
        // p = 1 1 0 0 ⅔ 0 1 ⅓ 0 0 ⅔ 1 → U = {0, 1, 2, 3, 5, 6, 8, 9, 11}.
        #expect(r.candidates == 9)
        // Scores: units 2 and 5 are off in S and on in 4/8 → ½; units 0, 1, 3, 6, 8, 11 → ⅜; unit 9 → 0.
        #expect(r.principalUnits == [2, 5])
        #expect(r.states == [false, false])
        #expect(r.scores == [0.5, 0.5])
        // Rows with units 2 and 5 off: 0, 1, 6.
        #expect(r.members == [0, 1, 6])
        // One hyperplane fewer: unit 2 off alone admits row 2 too.
        let t1 = try RDR(configurations: Self.hand, settings: RegionSettings(k: 3, t: 1)).region(forRow: 0)
        #expect(t1.principalUnits == [2] && t1.members == [0, 1, 2, 6])
    }

    @Test func moreHyperplanesThanCandidatesUsesThemAll() throws {
        let r = try RDR(configurations: Self.hand, settings: RegionSettings(k: 3, t: 20)).region(forRow: 0)
        #expect(r.candidates == 9)
        #expect(r.principalUnits == [2, 5, 0, 1, 3, 6, 8, 11, 9])
        #expect(r.states == [false, false, true, true, false, true, false, true, false])
        #expect(r.scores == [0.5, 0.5, 0.375, 0.375, 0.375, 0.375, 0.375, 0.375, 0])
        #expect(r.members == [0, 1, 6])
    }

    @Test func handComputedExternalTarget() throws {
        // Row 0 with unit 11 off; distances to rows 0–7: 1, 3, 3, 9, 9, 7, 2, 6.
        let x = Bitset(string: "110010100010")
        let r = try RDR(configurations: Self.hand, settings: RegionSettings(k: 3, t: 2)).region(for: x)
        #expect(r.target == nil)
        #expect(r.neighbours.map(\.index) == [0, 6] && r.neighbours.map(\.distance) == [1, 2])
        // S = {x, row 0, row 6}: p = 1 1 0 0 ⅔ 0 1 0 0 0 1 ⅔ → 10 candidates; unit 7 (off in S, on in
        // 5/8) scores ⅝, then units 2 and 5 at ½.
        #expect(r.candidates == 10)
        #expect(r.principalUnits == [7, 2] && r.states == [false, false] && r.scores == [0.625, 0.5])
        // Row 2 is no neighbour but shares the two states.
        #expect(r.members == [0, 2, 6])
    }

    @Test func noCandidatesMakesEveryRowAMember() throws {
        // From row 0 the distances are 6, 6, 3: S = rows 0, 3, 1, which disagree on every unit, so
        // no hyperplane bounds the region and it holds every row.
        let m = ConfigurationMatrix(strings: ["110010", "001101", "001101", "111111"])
        let r = try RDR(configurations: m, settings: RegionSettings(k: 3, t: 3)).region(forRow: 0)
        #expect(r.neighbours.map(\.index) == [0, 3, 1] && r.neighbours.map(\.distance) == [0, 3, 6])
        #expect(r.candidates == 0 && r.principalUnits.isEmpty && r.states.isEmpty && r.scores.isEmpty)
        #expect(r.members == [0, 1, 2, 3])
        // With k = 2 rows 0 and 3 agree on units 0, 1 and 4, all on in 2 of 4 rows.
        let r2 = try RDR(configurations: m, settings: RegionSettings(k: 2, t: 3)).region(forRow: 0)
        #expect(r2.candidates == 3 && r2.principalUnits == [0, 1, 4] && r2.states == [true, true, true])
        #expect(r2.members == [0, 3])
    }

    @Test(arguments: [(UInt64(1), 60, 70), (2, 45, 128), (3, 80, 33)])
    func randomMatricesMatchOracleAndInvariants(seed: UInt64, rows: Int, units: Int) throws {
        let bools = clusteredRows(rows: rows, units: units, clusters: 4, flip: 0.12, seed: seed)
        let m = ConfigurationMatrix(strings: bools.map { String($0.map { $0 ? "1" : "0" }) })
        for k in [1, 2, 5, 9] {
            var previous: [Int]? = nil
            for t in [1, 2, 3, 5, 8, 13, 40] {
                let rdr = try RDR(configurations: m, settings: RegionSettings(k: k, t: t))
                for target in stride(from: seed == 1 ? 0 : 3, to: rows, by: 7) {
                    let r = try rdr.region(forRow: target)
                    let nb = oracleNeighbours(bools, target: target, k: k)
                    #expect(r.neighbours.map(\.index) == nb.map(\.index) && r.neighbours.map(\.distance) == nb.map(\.distance))
                    let o = oracleRegion(bools, seed: nb.map { bools[$0.index] }, neighbours: nb, k: k, t: t)
                    #expect(r.principalUnits == o.principal && r.states == o.states && r.candidates == o.candidates)
                    #expect(r.scores == o.numerators.map { Double($0) / Double(rows) })
                    #expect(r.members == o.members, "k \(k) t \(t) target \(target)")
                    // The target and all of S are inside their own region.
                    #expect(r.members.contains(target))
                    #expect(Set(r.neighbours.map(\.index)).isSubset(of: r.members))
                    #expect(r.principalUnits.count == min(t, r.candidates))
                }
                // |R| never grows with t: the principal units for t are a prefix of those for t + 1.
                let region = try rdr.region(forRow: rows / 2).members
                if let previous { #expect(Set(region).isSubset(of: previous), "k \(k) t \(t)") }
                previous = region
            }
        }
    }

    @Test func externalTargetMatchesOracle() throws {
        let bools = clusteredRows(rows: 50, units: 90, clusters: 3, flip: 0.1, seed: 9)
        let m = ConfigurationMatrix(strings: bools.map { String($0.map { $0 ? "1" : "0" }) })
        var rng = SeededGenerator(seed: 10)
        let x = bools[7].map { rng.nextUniform() < 0.05 ? !$0 : $0 }
        for (k, t) in [(1, 4), (4, 3), (8, 10), (51, 5)] {
            let r = try RDR(configurations: m, settings: RegionSettings(k: k, t: t)).region(for: Bitset(x))
            let d = bools.map { row in zip(row, x).filter { $0 != $1 }.count }
            let order = bools.indices.sorted { (d[$0], $0) < (d[$1], $1) }.prefix(k - 1)
            #expect(r.neighbours.map(\.index) == Array(order) && r.neighbours.map(\.distance) == order.map { d[$0] })
            let o = oracleRegion(bools, seed: [x] + order.map { bools[$0] }, neighbours: [], k: k, t: t)
            #expect(r.principalUnits == o.principal && r.states == o.states && r.members == o.members)
            #expect(Set(order).isSubset(of: r.members))
        }
    }

    @Test func settingsAndTargetsAreValidated() throws {
        expectRDRError("k = 0") { try RegionSettings(k: 0, t: 3).validate() }
        expectRDRError("t = 0") { try RegionSettings(k: 2, t: 0).validate() }
        expectRDRError("t = -1") { _ = try RDR(configurations: Self.hand, settings: RegionSettings(k: 2, t: -1)) }
        expectRDRError("no rows") { _ = try RDR(configurations: ConfigurationMatrix(units: 5)) }
        let rdr = try RDR(configurations: Self.hand, settings: RegionSettings(k: 9, t: 2))
        expectRDRError("only 8 rows") { _ = try rdr.region(forRow: 0) }
        expectRDRError("target row 8 is outside 0...7") { _ = try rdr.region(forRow: 8) }
        expectRDRError("target row -1") { _ = try rdr.region(forRow: -1) }
        expectRDRError("has 5 units, the configurations 12") { _ = try rdr.region(for: Bitset(count: 5)) }
        // An external target with k = 9 needs 8 rows: fine.
        #expect(try rdr.region(for: Bitset(count: 12)).neighbours.count == 8)
        #expect(RegionSettings() == RegionSettings(k: 8, t: 10))
    }

    @Test func purityIsTheShareOfTheCommonestLabel() {
        let labels = [0, 1, 1, 2, 1, 0]
        #expect(RDR.purity(labels, members: [1, 2, 4]) == 1)
        #expect(RDR.purity(labels, members: [0, 1, 2, 3]) == 0.5)
        #expect(RDR.purity(labels, members: [3]) == 1)
        #expect(RDR.purity(labels, members: []).isNaN)
        let region = Region(target: 0, neighbours: [(0, 0)], principalUnits: [], states: [], scores: [], candidates: 0,
                            members: [0, 1, 5])
        #expect(abs(region.purity(labels) - 2.0 / 3) < 1e-15)
    }
}
