import Analysis
import Testing
@testable import Invert

/// The beam search against an exhaustive enumeration of all formulas of length ≤ 2 (when the beam
/// holds every admissible literal, depth 2 *is* exhaustive), and the de-duplication of beam entries.
@Suite struct SearchTests {
    static let data = SyntheticData(count: 120, densities: [0.3, 0.2, 0.5, 0.15, 0.4, 0.25],
                                    levels: [0, 1, 1.5, 2, 3, 5], seed: 11)

    /// All formulas of length ≤ 2 scored by the pairwise U count on `[Bool]` masks, with the method's
    /// rules spelled out: admissible literals best first; the expansion pool of all literals by
    /// differentiability; the literals, then `a ∧ λ`, `a ∨ λ` for every admissible literal a and pool
    /// literal λ in those orders; one formula per mask (the first); stable sort by AUC; the first B.
    struct Exhaustive {
        struct Item { var formula: Formula; var mask: [Bool]; var auc: Double; var differentiability: Double }
        let activations: [Float]
        let labels: [[Bool]]
        let configuration: InvertConfiguration
        /// Enumerate a and λ in column order instead of the method's orders (the same pool literals;
        /// the same masks and AUCs, but ties and duplicate masks may resolve to other formulas).
        var columnOrder = false

        func item(_ formula: Formula, _ mask: [Bool]) -> Item {
            let n1 = Double(mask.filter { $0 }.count), n0 = Double(mask.count) - n1
            let u = pairwiseU(activations, mask)
            return Item(formula: formula, mask: mask, auc: u / (n1 * n0),
                        differentiability: abs(2 * u - n1 * n0) / (n1 * n0))
        }

        func admissible(_ mask: [Bool]) -> Bool {
            let n1 = mask.filter { $0 }.count
            let t = Double(n1) / Double(mask.count)
            return n1 > 0 && n1 < mask.count && t >= configuration.minFraction && t <= configuration.maxFraction
        }

        /// Stable sort: equal keys keep their order.
        func stableSorted(_ items: [Item], by before: (Item, Item) -> Bool) -> [Item] {
            items.enumerated().sorted { before($0.element, $1.element) || (!before($1.element, $0.element) && $0.offset < $1.offset) }
                .map(\.element)
        }

        func byAUC(_ items: [Item]) -> [Item] {
            stableSorted(items) { configuration.mode == .positive ? $0.auc > $1.auc : $0.auc < $1.auc }
        }

        func run() -> [Item] {
            var literals: [Item] = []
            for j in labels[0].indices {
                let column = labels.map { $0[j] }
                guard column.contains(true), column.contains(false) else { continue }
                literals.append(item(.literal(concept: j, negated: false), column))
                literals.append(item(.literal(concept: j, negated: true), column.map { !$0 }))
            }
            let admissibleLiterals = literals.filter { admissible($0.mask) }
            let firstOperands = columnOrder ? admissibleLiterals : byAUC(admissibleLiterals)
            var pool = stableSorted(literals) { $0.differentiability > $1.differentiability }
            if let limit = configuration.limitSearch { pool = Array(pool.prefix(limit)) }
            if columnOrder { pool = literals.filter { l in pool.contains { $0.formula == l.formula } } }
            var all = firstOperands
            for a in firstOperands {
                for λ in pool {
                    let and = zip(a.mask, λ.mask).map { $0 && $1 }, or = zip(a.mask, λ.mask).map { $0 || $1 }
                    if admissible(and) { all.append(item(.and(a.formula, λ.formula), and)) }
                    if admissible(or) { all.append(item(.or(a.formula, λ.formula), or)) }
                }
            }
            var unique: [Item] = []
            for candidate in all where !unique.contains(where: { $0.mask == candidate.mask }) { unique.append(candidate) }
            return Array(byAUC(unique).prefix(configuration.beamSize))
        }
    }

    static func configurations(admissibleLiterals: (InvertConfiguration) -> Int) -> [InvertConfiguration] {
        var a = InvertConfiguration()
        a.length = 2
        var b = a
        b.mode = .negative
        b.minFraction = 0.1
        b.maxFraction = 0.6
        var c = a
        c.minFraction = 0.05
        c.maxFraction = 1
        c.limitSearch = 5
        a.beamSize = admissibleLiterals(a)              // exactly the number of admissible literals
        b.beamSize = 10_000                             // everything: the whole ranked candidate list
        c.beamSize = admissibleLiterals(c) + 3
        return [a, b, c]
    }

    @Test func depthTwoEqualsExhaustiveEnumeration() throws {
        let data = Self.data
        let concepts = try data.conceptSet()
        func admissibleLiterals(_ configuration: InvertConfiguration) -> Int {
            let n = concepts.count
            return concepts.masks.map(\.cardinality).flatMap { [$0, n - $0] }
                .filter { configuration.admits(positives: $0, total: n) }.count
        }
        for configuration in Self.configurations(admissibleLiterals: admissibleLiterals) {
            let found = try Invert(concepts: concepts, configuration: configuration).explain(data.activations)
            let expected = Exhaustive(activations: data.activations, labels: data.labels, configuration: configuration).run()
            let label = "\(configuration.mode) [\(configuration.minFraction), \(configuration.maxFraction)] B=\(configuration.beamSize)"
            #expect(found.count == expected.count, "\(label)")
            #expect(found.contains { $0.length == 2 }, "\(label): depth 2 added formulas")
            for (f, e) in zip(found, expected) {
                #expect(f.formula.text(names: concepts.names) == e.formula.text(names: concepts.names), "\(label)")
                #expect(f.auc == e.auc, "\(label): \(f.auc) vs \(e.auc)")
                #expect(f.differentiability == e.differentiability && f.length == e.formula.length, "\(label)")
            }

            // Enumerated in column order, the same masks and AUCs come out (formulas may differ where
            // a ∧ b and b ∧ a or other equal masks compete); compared on the complete list.
            var everything = configuration
            everything.beamSize = 10_000
            let all = try Invert(concepts: concepts, configuration: everything).explain(data.activations)
            let plain = Exhaustive(activations: data.activations, labels: data.labels, configuration: everything,
                                   columnOrder: true).run()
            #expect(all.map(\.auc) == plain.map(\.auc), "\(label)")
            let groups = Dictionary(grouping: all.map { ($0.auc, $0.formula.mask(in: concepts)) }, by: { $0.0 })
            let plainGroups = Dictionary(grouping: plain.map { ($0.auc, Bitset($0.mask)) }, by: { $0.0 })
            #expect(groups.mapValues { Set($0.map(\.1)) } == plainGroups.mapValues { Set($0.map(\.1)) }, "\(label)")
        }
    }

    @Test func beamEntriesScoreLikeTheirBuiltMasks() throws {
        // The search scores refinements by inclusion–exclusion; rebuilding each mask must give the same
        // AUC bit for bit (otherwise equal masks could be ranked apart).
        let fixture = try InvertFixtures.search()
        let concepts = try fixture.conceptSet()
        for c in fixture.cases {
            let invert = try Invert(concepts: concepts, configuration: c.configuration)
            for k in [0, 2, 4] {
                let beams = try invert.beams(fixture.neuron(k))
                #expect(beams.count == c.configuration.length)
                #expect(beams.last ?? [] == (try invert.explain(fixture.neuron(k))))
                for (depth, beam) in beams.enumerated() {
                    for e in beam {
                        #expect(e == (try invert.score(e.formula, activations: fixture.neuron(k))), "\(c.name) \(k)")
                        #expect(e.length <= depth + 1)
                    }
                }
            }
        }
    }

    /// Whether some beam holds two formulas with the same mask.
    private func hasDuplicateMasks(_ beams: [[Explanation]], _ concepts: ConceptSet) -> Bool {
        beams.contains { beam in Set(beam.map { $0.formula.mask(in: concepts) }).count < beam.count }
    }

    @Test func beamsHoldOneFormulaPerMask() throws {
        let fixture = try InvertFixtures.search()
        let concepts = try fixture.conceptSet()
        var referenceDuplicates = 0
        for c in fixture.cases {
            let invert = try Invert(concepts: concepts, configuration: c.configuration)
            for k in 0..<fixture.neuronCount {
                let beams = try invert.beams(fixture.neuron(k))
                if c.configuration.referenceBeam {
                    if hasDuplicateMasks(beams, concepts) { referenceDuplicates += 1 }
                } else {
                    #expect(!hasDuplicateMasks(beams, concepts), "\(c.name) neuron \(k)")
                }
            }
        }
        // The fixture does provoke duplicates ("tree_copy", and a ∧ b reached from a and from b).
        #expect(referenceDuplicates >= 3)
    }

    @Test func duplicatedColumnsYieldTheFirstShortestFormula() throws {
        // Columns 2 and 3 repeat columns 0 and 1; column 4 is the complement of column 1.
        let base = SyntheticData(count: 150, densities: [0.3, 0.35, 0.25], levels: [0, 1, 2, 3], seed: 5)
        let labels = base.labels.map { [$0[0], $0[1], $0[0], $0[1], !$0[1], $0[2]] }
        let concepts = try ConceptSet(names: ["a", "b", "a2", "b2", "not_b", "c"], labels: labels)
        for mode in InvertMode.allCases {
            var configuration = InvertConfiguration()
            configuration.mode = mode
            configuration.beamSize = 4
            configuration.maxFraction = 0.8
            let beams = try Invert(concepts: concepts, configuration: configuration).beams(base.activations)
            #expect(!hasDuplicateMasks(beams, concepts))
            for e in beams.flatMap({ $0 }) {
                // A copy never stands in for its original at the same length.
                #expect(!(e.length == 1 && [2, 3, 4].contains(e.formula.concepts[0])), "\(e.formula.text(names: concepts.names))")
            }
            configuration.referenceBeam = true
            let reference = try Invert(concepts: concepts, configuration: configuration).beams(base.activations)
            #expect(hasDuplicateMasks(reference, concepts))
        }
    }
}
