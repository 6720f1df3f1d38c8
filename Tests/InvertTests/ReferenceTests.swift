import Foundation
import Testing
@testable import Invert

/// Depth-3 searches with beams smaller than the pool against the Python reference
/// (Tests/Reference/make_invert_fixtures.py: numpy masks, scipy ranks and `mannwhitneyu`, plain
/// loops) in positive and negative mode, with a truncated pool, several fraction bounds, depth 1
/// and 4, and the reference-compatible beam.
@Suite struct ReferenceTests {
    @Test func explanationsMatchPythonReference() throws {
        let fixture = try InvertFixtures.search()
        let concepts = try fixture.conceptSet()
        #expect(concepts.count == 300 && concepts.names.count == 12)
        #expect(concepts.constantConcepts == [11])
        #expect(fixture.cases.count >= 8)
        for c in fixture.cases {
            let invert = try Invert(concepts: concepts, configuration: c.configuration)
            #expect(c.results.count == fixture.neuronCount)
            for (k, expected) in c.results.enumerated() {
                let found = try invert.explain(fixture.neuron(k))
                let where_ = "\(c.name) neuron \(k)"
                #expect(found.map { $0.formula.text(names: concepts.names) } == expected.map(\.text), "\(where_)")
                #expect(found.count == expected.count, "\(where_)")
                for (f, e) in zip(found, expected) {
                    #expect(f.length == e.length && f.length == f.formula.length, "\(where_) \(e.text)")
                    #expect(f.conceptFraction == e.conceptFraction, "\(where_) \(e.text)")
                    #expect(relativeError(f.auc, e.auc) <= 1e-9, "\(where_) \(e.text): AUC \(f.auc) vs \(e.auc)")
                    #expect(abs(f.differentiability - e.differentiability) <= 1e-9 * max(e.differentiability, 1e-3),
                            "\(where_) \(e.text): \(f.differentiability) vs \(e.differentiability)")
                    #expect(relativeError(f.pValue, e.pValue) <= 1e-6, "\(where_) \(e.text): p \(f.pValue) vs \(e.pValue)")
                }
            }
        }
    }

    @Test func conceptAUCsMatchPythonReference() throws {
        let fixture = try InvertFixtures.search()
        let invert = try Invert(concepts: try fixture.conceptSet(), configuration: InvertConfiguration())
        for k in 0..<fixture.neuronCount {
            let aucs = try invert.conceptAUCs(fixture.neuron(k))
            for (found, expected) in zip(aucs, fixture.conceptAucs[k]) {
                if let expected {
                    #expect(relativeError(found, expected) <= 1e-12, "neuron \(k): \(found) vs \(expected)")
                } else {
                    #expect(found.isNaN, "neuron \(k): constant concept")
                }
            }
        }
    }

    @Test func configurationsDecodeWithDefaults() throws {
        // The fixture's configurations spell out every key; a run config may name only some.
        let partial = try JSONDecoder().decode(InvertConfiguration.self, from: Data(#"{"beamSize": 5, "mode": "negative"}"#.utf8))
        var expected = InvertConfiguration()
        expected.beamSize = 5
        expected.mode = .negative
        #expect(partial == expected)
        var full = InvertConfiguration()
        full.limitSearch = 40
        full.referenceBeam = true
        full.minFraction = 0.002
        let roundTrip = try JSONDecoder().decode(InvertConfiguration.self, from: JSONEncoder().encode(full))
        #expect(roundTrip == full)
    }
}
