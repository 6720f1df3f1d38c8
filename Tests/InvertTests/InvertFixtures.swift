import Analysis
import Foundation
import NNRuntime
import Testing
import TestSupport
@testable import Invert

/// The committed reference written by Tests/Reference/make_invert_fixtures.py (numpy + scipy, plain
/// loops) under Tests/TestSupport/Fixtures/invert/, and small helpers shared by the INVERT tests.
enum InvertFixtures {
    /// search.json: 300 images × 12 concepts ("tree_copy" duplicates "tree", "unicorn" is never
    /// present), 5 neurons with tied activations (one constant), and the reference's explanations for
    /// several configurations.
    struct Search: Decodable {
        struct Item: Decodable {
            var text: String
            var length: Int
            var auc: Double
            var differentiability: Double
            var conceptFraction: Double
            var pValue: Double
        }
        struct Case: Decodable {
            var name: String
            var configuration: InvertConfiguration
            /// One list of explanations per neuron.
            var results: [[Item]]
        }
        var names: [String]
        /// labels[image][concept], 0 or 1.
        var labels: [[Int]]
        /// activations[image][neuron], before the float32 rounding both sides apply.
        var activations: [[Double]]
        /// AUC of each concept per neuron; nil for the constant concept.
        var conceptAucs: [[Double?]]
        var cases: [Case]

        func conceptSet() throws -> ConceptSet {
            try ConceptSet(names: names, labels: labels.map { $0.map { $0 != 0 } })
        }

        var neuronCount: Int { activations[0].count }

        /// One neuron's activations as the API takes them.
        func neuron(_ k: Int) -> [Float] { activations.map { Float($0[k]) } }

        /// All neurons as the `[N, k]` tensor of `explain(layer:)`.
        var layer: Tensor {
            Tensor(shape: [activations.count, neuronCount], scalars: activations.flatMap { $0.map(Float.init) })
        }
    }

    static func search() throws -> Search {
        let data = try Data(contentsOf: Fixtures.url("invert/search.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Search.self, from: data)
    }
}

/// A reproducible random data set: `count` images, concept columns with the given densities and
/// activations drawn from `levels` (few levels = heavy ties).
struct SyntheticData {
    var names: [String]
    var labels: [[Bool]]          // labels[image][concept]
    var activations: [Float]

    init(count: Int, densities: [Double], levels: [Float], seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        names = densities.indices.map { "c\($0)" }
        labels = (0..<count).map { _ in densities.map { Double(rng.nextUniform()) < $0 } }
        // The activation leans towards concept 0 and away from concept 1 so that formulas matter.
        activations = labels.map { row in
            var level = Int(rng.next() % UInt64(levels.count))
            if row[0], rng.nextUniform() < 0.6 { level = min(level + 1, levels.count - 1) }
            if row.count > 1, row[1], rng.nextUniform() < 0.4 { level = max(level - 1, 0) }
            return levels[level]
        }
    }

    func conceptSet() throws -> ConceptSet { try ConceptSet(names: names, labels: labels) }

    /// Column j as Booleans.
    func column(_ j: Int) -> [Bool] { labels.map { $0[j] } }
}

/// U₁ by counting all (positive, negative) pairs, ties ½: the textbook definition, O(n₁·n₀).
/// Every term is a multiple of ½, so the sum is exact.
func pairwiseU(_ activations: [Float], _ mask: [Bool]) -> Double {
    var u = 0.0
    for (a, p) in zip(activations, mask) where p {
        for (b, q) in zip(activations, mask) where !q {
            u += a > b ? 1 : (a == b ? 0.5 : 0)
        }
    }
    return u
}

/// AUC from the pairwise count.
func pairwiseAUC(_ activations: [Float], _ mask: [Bool]) -> Double {
    let n1 = Double(mask.filter { $0 }.count), n0 = Double(mask.count) - n1
    return pairwiseU(activations, mask) / (n1 * n0)
}

/// |a − b| / max(|b|, floor).
func relativeError(_ a: Double, _ b: Double, floor: Double = 1e-300) -> Double {
    abs(a - b) / max(abs(b), floor)
}

/// Expects `body` to throw an ``InvertError`` whose one-line message contains `fragment`.
func expectInvertError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () throws -> Void) {
    let error = #expect(throws: InvertError.self, sourceLocation: sourceLocation) { try body() }
    guard let text = error.map({ "\($0)" }) else { return }
    #expect(text.contains(fragment) && !text.contains("\n"), "\(text)", sourceLocation: sourceLocation)
}
