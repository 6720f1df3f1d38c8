import Analysis
import Testing
@testable import RDR

/// Every region of the Python reference (Tests/Reference/make_rdr_fixtures.py: plain loops over
/// numpy 0/1 matrices with exact fractions) for row targets and external targets, on three seeded
/// clustered matrices with duplicate rows and constant units, for several (k, t) including t above
/// the candidate count and k = N.
@Suite struct ReferenceTests {
    @Test func regionsMatchPythonReference() throws {
        let fixture = try RDRFixtures.regions()
        #expect(fixture.cases.count == 3)
        var checked = 0
        for c in fixture.cases {
            let m = c.matrix()
            #expect(m.rows == c.rows.count && m.units == c.rows[0].count)
            var cache: [RegionSettings: RDR] = [:]
            for e in c.regions {
                let settings = RegionSettings(k: e.k, t: e.t)
                let rdr = try cache[settings] ?? RDR(configurations: m, settings: settings)
                cache[settings] = rdr
                let found: Region
                let label: String
                if let target = e.target {
                    found = try rdr.region(forRow: target)
                    label = "\(c.name) k \(e.k) t \(e.t) row \(target)"
                } else {
                    let ext = try #require(e.external)
                    found = try rdr.region(for: Bitset(string: c.external[ext]))
                    label = "\(c.name) k \(e.k) t \(e.t) external \(ext)"
                }
                #expect(found.target == e.target, "\(label)")
                #expect(found.neighbours.map { [$0.index, $0.distance] } == e.neighbours, "\(label)")
                #expect(found.candidates == e.candidates, "\(label)")
                #expect(found.principalUnits == e.principalUnits, "\(label)")
                #expect(found.states == e.states, "\(label)")
                #expect(found.scores == e.scores, "\(label)")
                #expect(found.members == e.members, "\(label)")
                checked += 1
            }
        }
        #expect(checked == 336)
    }
}
