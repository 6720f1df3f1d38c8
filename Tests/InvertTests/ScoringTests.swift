import Analysis
import Testing
@testable import Invert

/// The AUC and p-value of a concept mask, computed from one shared ranking by summing ranks over set
/// bits, against Analysis's ROC / Mann–Whitney routines and the pairwise definition, on data with
/// heavy ties (4 activation levels for 200 images).
@Suite struct ScoringTests {
    static let data = SyntheticData(count: 200, densities: [0.3, 0.2, 0.5, 0.7, 0.05, 0.9, 0.45, 0.6],
                                    levels: [-1, 0, 0.5, 2], seed: 7)

    /// Formulas over the synthetic concepts, including dense masks (more than half the images set,
    /// where the rank sum is taken over the complement) and every operator shape.
    static let formulas: [Formula] = {
        func lit(_ j: Int, _ negated: Bool = false) -> Formula { .literal(concept: j, negated: negated) }
        var out: [Formula] = []
        for j in 0..<8 { out += [lit(j), lit(j, true)] }
        out += [.and(lit(0), lit(1, true)), .or(lit(2), lit(4)), .or(lit(3, true), lit(5)),
                .and(.or(lit(0), lit(6)), lit(7, true)), .or(.and(lit(2), lit(3)), lit(1)),
                .and(.and(lit(5), lit(3)), lit(7)), .or(.or(lit(0, true), lit(1)), lit(4, true))]
        return out
    }()

    @Test func maskAUCMatchesROCAndPairwiseCount() throws {
        let data = Self.data
        let concepts = try data.conceptSet()
        let invert = try Invert(concepts: concepts, configuration: InvertConfiguration())
        let scores = data.activations.map(Double.init)
        #expect(Set(data.activations).count == 4)
        var denseMasks = 0
        for formula in Self.formulas {
            let mask = formula.mask(in: concepts).bools
            let explanation = try invert.score(formula, activations: data.activations)
            let viaROC = try ROC.auc(scores: scores, labels: mask)
            let viaPairs = pairwiseAUC(data.activations, mask)
            let text = formula.text(names: concepts.names)
            #expect(explanation.auc == viaROC, "\(text): \(explanation.auc) vs ROC \(viaROC)")
            #expect(relativeError(explanation.auc, viaPairs) <= 1e-15, "\(text): \(explanation.auc) vs pairs \(viaPairs)")
            let test = try MannWhitney.test(scores: scores, labels: mask)
            #expect(relativeError(explanation.pValue, test.pValue) <= 1e-12, "\(text): p \(explanation.pValue) vs \(test.pValue)")
            // 2·|0.5 − AUC|, in the exact form |2U − n₁n₀| / (n₁n₀).
            let n1 = Double(mask.filter { $0 }.count), n0 = 200 - n1
            #expect(explanation.differentiability == abs(2 * pairwiseU(data.activations, mask) - n1 * n0) / (n1 * n0))
            #expect(abs(explanation.differentiability - 2 * abs(0.5 - viaROC)) <= 1e-15)
            #expect(explanation.conceptFraction == Double(mask.filter { $0 }.count) / 200)
            #expect(explanation.length == formula.length)
            if mask.filter({ $0 }).count > 100 { denseMasks += 1 }
        }
        #expect(denseMasks >= 5)                                           // the complement path ran
    }

    @Test func conceptAUCsMatchROC() throws {
        let data = Self.data
        let invert = try Invert(concepts: try data.conceptSet(), configuration: InvertConfiguration())
        let aucs = try invert.conceptAUCs(data.activations)
        for j in 0..<8 {
            #expect(aucs[j] == (try ROC.auc(scores: data.activations.map(Double.init), labels: data.column(j))))
        }
    }

    @Test func negationMirrorsTheAUC() throws {
        let data = Self.data
        let invert = try Invert(concepts: try data.conceptSet(), configuration: InvertConfiguration())
        for j in 0..<8 {
            let c = try invert.score(.literal(concept: j, negated: false), activations: data.activations)
            let notC = try invert.score(.literal(concept: j, negated: true), activations: data.activations)
            #expect(abs(c.auc + notC.auc - 1) <= 1e-15)
            #expect(c.differentiability == notC.differentiability)        // exactly: the pool's tie order relies on it
            #expect(c.pValue == notC.pValue)                               // two-sided
        }
    }

    @Test func perfectSeparationAndConstantActivations() throws {
        // Concept 0 holds exactly for the 30 highest activations.
        let n = 100
        let labels = (0..<n).map { [$0 >= 70, $0 % 3 == 0] }
        let concepts = try ConceptSet(names: ["top", "every third"], labels: labels)
        let invert = try Invert(concepts: concepts, configuration: InvertConfiguration())
        let rising = (0..<n).map { Float($0) / 10 }
        let top = try invert.score(.literal(concept: 0, negated: false), activations: rising)
        #expect(top.auc == 1 && top.differentiability == 1)
        #expect(top.pValue < 1e-10)
        #expect(try invert.score(.literal(concept: 0, negated: true), activations: rising).auc == 0)
        let best = try invert.explain(rising)
        #expect(best.first?.formula == .literal(concept: 0, negated: false) && best.first?.auc == 1)

        // A constant neuron recognises nothing: every AUC is ½ and every p-value 1.
        let flat = [Float](repeating: 3.25, count: n)
        for formula: Formula in [.literal(concept: 0, negated: false), .literal(concept: 1, negated: true),
                                 .or(.literal(concept: 0, negated: false), .literal(concept: 1, negated: false))] {
            let e = try invert.score(formula, activations: flat)
            #expect(e.auc == 0.5 && e.differentiability == 0 && e.pValue == 1)
        }
        #expect(try invert.conceptAUCs(flat) == [0.5, 0.5])
    }

    @Test func rankKernelsAgreeWithBuiltMasks() {
        // The intersection kernels and the complement path give exactly the rank sums of built masks.
        let data = Self.data
        let ranked = RankedActivations(data.activations)
        let masks = (0..<8).map { Bitset(data.column($0)) }
        func plainSum(_ m: Bitset) -> Double { m.setIndices.reduce(0) { $0 + ranked.ranks[$1] } }
        for a in masks {
            #expect(ranked.rankSum(of: a) == plainSum(a) && ranked.rankSum(of: ~a) == plainSum(~a))
            for b in masks {
                #expect(ranked.intersectionRankSum(a, b) == plainSum(a & b))
                #expect(ranked.intersectionCount(a, b) == (a & b).cardinality)
            }
        }
        #expect(ranked.totalRankSum == plainSum(~Bitset(count: 200)))
    }
}
