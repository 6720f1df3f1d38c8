import Analysis
import Foundation
import NNRuntime
import Testing
@testable import Invert

/// The layer entry point, formula printing and the one-line errors.
@Suite struct InvertAPITests {
    /// Records progress calls from any thread.
    final class ProgressLog: @unchecked Sendable {
        private let lock = NSLock()
        private var calls: [(Int, Int)] = []
        func record(_ done: Int, _ total: Int) { lock.lock(); calls.append((done, total)); lock.unlock() }
        var snapshot: [(Int, Int)] { lock.lock(); defer { lock.unlock() }; return calls }
    }

    @Test func layerEqualsPerNeuronAndIsDeterministic() throws {
        let fixture = try InvertFixtures.search()
        let concepts = try fixture.conceptSet()
        let layer = fixture.layer
        for c in fixture.cases where ["default", "negative", "reference"].contains(c.name) {
            let invert = try Invert(concepts: concepts, configuration: c.configuration)
            let perNeuron = try (0..<fixture.neuronCount).map { try invert.explain(fixture.neuron($0)) }
            let log = ProgressLog()
            let first = try invert.explain(layer: layer, neurons: nil) { log.record($0, $1) }
            let second = try invert.explain(layer: layer, neurons: nil, progress: nil)
            #expect(first == perNeuron, "\(c.name)")
            #expect(second == first, "\(c.name)")
            let calls = log.snapshot
            #expect(calls.count == 5 && calls.allSatisfy { $0.1 == 5 })
            #expect(Set(calls.map(\.0)) == Set(1...5))
            // A subset, in the caller's order.
            let subset = try invert.explain(layer: layer, neurons: [4, 0, 4], progress: nil)
            #expect(subset == [perNeuron[4], perNeuron[0], perNeuron[4]], "\(c.name)")
        }
    }

    @Test func formulaText() {
        func lit(_ j: Int, _ negated: Bool = false) -> Formula { .literal(concept: j, negated: negated) }
        let names = ["a", "b", "c"]
        #expect(Formula.and(.and(lit(0), lit(1, true)), lit(2)).text(names: names) == "a & ~b & c")
        #expect(Formula.and(.or(lit(0), lit(1)), lit(2)).text(names: names) == "(a | b) & c")
        #expect(Formula.or(.and(lit(0), lit(1, true)), lit(2)).text(names: names) == "(a & ~b) | c")
        #expect(Formula.or(.or(lit(0, true), lit(1)), lit(2, true)).text(names: names) == "~a | b | ~c")
        #expect(Formula.and(.or(.and(lit(0), lit(1)), lit(2)), lit(0, true)).text(names: names) == "((a & b) | c) & ~a")
        #expect(lit(7).text(names: names) == "#7")
        let f = Formula.or(.and(lit(2), lit(0, true)), lit(2))
        #expect(f.length == 3 && f.concepts == [0, 2])
    }

    @Test func conceptSetLayouts() throws {
        let labels = [[true, false, false], [false, false, true], [true, false, true], [false, false, true]]
        let fromRows = try ConceptSet(names: ["x", "never", "y"], labels: labels)
        let fromMasks = try ConceptSet(names: ["x", "never", "y"],
                                       masks: [Bitset([true, false, true, false]), Bitset(count: 4),
                                               Bitset([false, true, true, true])])
        #expect(fromRows.masks == fromMasks.masks && fromRows.count == 4)
        #expect(fromRows.constantConcepts == [1])
        // Constant concepts never become literals: the only literals are x, ~x, y, ~y.
        var configuration = InvertConfiguration()
        configuration.beamSize = 10
        configuration.maxFraction = 1
        configuration.length = 1
        let found = try Invert(concepts: fromRows, configuration: configuration).explain([1, 2, 3, 4])
        #expect(found.count == 4 && found.allSatisfy { $0.formula.concepts != [1] })
    }

    @Test func errorsAreOneLineAndNameTheProblem() throws {
        let concepts = try ConceptSet(names: ["x", "y"], labels: [[true, false], [false, true], [true, true]])
        let invert = try Invert(concepts: concepts, configuration: InvertConfiguration())
        expectInvertError("2 activations but 3 labelled images") { _ = try invert.explain([1, 2]) }
        expectInvertError("activation of image 1 is nan; expected finite") { _ = try invert.explain([1, .nan, 2]) }
        expectInvertError("activation of image 2 is inf") { _ = try invert.conceptAUCs([1, 2, .infinity]) }
        expectInvertError("cover 1 image; expected at least 2") { _ = try ConceptSet(names: ["x"], labels: [[true]]) }
        expectInvertError("appears at columns 0 and 1") { _ = try ConceptSet(names: ["x", "x"], labels: [[true, false], [false, true]]) }
        expectInvertError("label row 1 has 1 entries; expected 2") { _ = try ConceptSet(names: ["x", "y"], labels: [[true, false], [false]]) }
        expectInvertError("1 concept names but 2 label columns") { _ = try ConceptSet(names: ["x"], masks: [Bitset(count: 3), Bitset(count: 3)]) }
        expectInvertError("no concepts") { _ = try ConceptSet(names: [], masks: []) }
        expectInvertError("column 1 has 4 labels but column 0 has 3") {
            _ = try ConceptSet(names: ["x", "y"], masks: [Bitset(count: 3), Bitset(count: 4)])
        }
        expectInvertError("holds for 0 of 3 images") {
            _ = try invert.score(.and(.literal(concept: 0, negated: false), .literal(concept: 0, negated: true)), activations: [1, 2, 3])
        }
        expectInvertError("formula uses concept 5") { _ = try invert.score(.literal(concept: 5, negated: false), activations: [1, 2, 3]) }

        // Layers.
        expectInvertError("shape [3]; expected [3, neurons]") { _ = try invert.explain(layer: Tensor([1, 2, 3]), neurons: nil, progress: nil) }
        expectInvertError("shape [2, 1]") { _ = try invert.explain(layer: Tensor(shape: [2, 1], scalars: [1, 2]), neurons: nil, progress: nil) }
        let layer = Tensor(shape: [3, 2], scalars: [1, 2, 3, .nan, 5, 6])
        expectInvertError("neuron 2 is out of range; expected indices 0..<2") { _ = try invert.explain(layer: layer, neurons: [0, 2], progress: nil) }
        expectInvertError("activation of neuron 1 on image 1 is nan") { _ = try invert.explain(layer: layer, neurons: nil, progress: nil) }
        #expect(try invert.explain(layer: layer, neurons: [0], progress: nil).count == 1)   // the NaN is in column 1

        // Configuration.
        func configured(_ change: (inout InvertConfiguration) -> Void) -> InvertConfiguration {
            var c = InvertConfiguration()
            change(&c)
            return c
        }
        expectInvertError("length is 0; expected a formula length ≥ 1") { try configured { $0.length = 0 }.validate() }
        expectInvertError("beam size is 0; expected ≥ 1") { _ = try Invert(concepts: concepts, configuration: configured { $0.beamSize = 0 }) }
        expectInvertError("min fraction is -0.1; expected a concept fraction in [0, 1]") { try configured { $0.minFraction = -0.1 }.validate() }
        expectInvertError("max fraction is 1.5") { try configured { $0.maxFraction = 1.5 }.validate() }
        expectInvertError("max fraction is nan") { try configured { $0.maxFraction = .nan }.validate() }
        expectInvertError("min fraction 0.4 exceeds max fraction 0.3") {
            try configured { $0.minFraction = 0.4; $0.maxFraction = 0.3 }.validate()
        }
        expectInvertError("limit search is 0; expected ≥ 1") { try configured { $0.limitSearch = 0 }.validate() }
    }
}
