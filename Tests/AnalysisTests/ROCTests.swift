import Foundation
import Testing
@testable import Analysis

/// ROC-AUC, ROC curve and average precision against scikit-learn (ties included), hand-computed
/// examples, and the Mann–Whitney U p-values against scipy.
@Suite struct ROCTests {
    @Test func matchesScikitLearnIncludingTies() throws {
        let fixture: AnalysisFixtures.ROC = try AnalysisFixtures.load("roc.json")
        for c in fixture.cases {
            let auc = try ROC.auc(scores: c.scores, labels: c.labels)
            #expect(abs(auc - c.auc) <= 1e-12, "\(c.name): \(auc) vs \(c.auc)")
            let curve = try ROC.curve(scores: c.scores, labels: c.labels)
            #expect(curve.count == c.fpr.count, "\(c.name)")
            #expect(worstRelativeError(curve.map(\.fpr), c.fpr) <= 1e-12, "\(c.name)")
            #expect(worstRelativeError(curve.map(\.tpr), c.tpr) <= 1e-12, "\(c.name)")
            let ap = try ROC.averagePrecision(scores: c.scores, labels: c.labels)
            #expect(abs(ap - c.ap) <= 1e-12, "\(c.name): \(ap) vs \(c.ap)")
        }
    }

    @Test func handComputedExamples() throws {
        // scikit-learn's documentation example: positives {0.35, 0.8} beat negatives {0.1, 0.4} in 3 of 4 pairs.
        #expect(try ROC.auc(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true]) == 0.75)
        // A tie counts one half: positives {1, 2} against the negative {1}: (½ + 1) / 2.
        #expect(try ROC.auc(scores: [1, 1, 2], labels: [false, true, true]) == 0.75)
        // Precision 1 at recall ½ (0.8), then precision ⅔ at recall 1 (0.35 after 0.4): ½·1 + ½·⅔.
        let ap = try ROC.averagePrecision(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true])
        #expect(abs(ap - 5.0 / 6.0) < 1e-15)
        let curve = try ROC.curve(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true])
        #expect(curve.map(\.fpr) == [0, 0, 0.5, 0.5, 1] && curve.map(\.tpr) == [0, 0.5, 0.5, 1, 1])
        // Perfect separation and its mirror image.
        #expect(try ROC.auc(scores: [1, 2, 3, 4], labels: [false, false, true, true]) == 1)
        #expect(try ROC.auc(scores: [1, 2, 3, 4], labels: [true, true, false, false]) == 0)
    }

    @Test func negatingTheLabelsMirrorsTheAUC() throws {
        let scores = (0..<50).map { Double(($0 * 37) % 11) }              // many ties
        let labels = (0..<50).map { ($0 * 13) % 7 < 3 }
        let auc = try ROC.auc(scores: scores, labels: labels)
        let negated = try ROC.auc(scores: scores, labels: labels.map { !$0 })
        #expect(abs(auc + negated - 1) < 1e-14)
    }

    @Test func errorsAreOneLine() {
        func expectError(_ fragment: String, _ body: () throws -> Void) {
            let error = #expect(throws: AnalysisError.self) { try body() }
            guard let text = error.map({ "\($0)" }) else { return }
            #expect(text.contains(fragment) && !text.contains("\n"), "\(text)")
        }
        expectError("labels hold only negatives (3 in all); expected both classes") {
            _ = try ROC.auc(scores: [1, 2, 3], labels: [false, false, false])
        }
        expectError("labels hold only positives") { _ = try ROC.curve(scores: [1, 2], labels: [true, true]) }
        expectError("3 scores but 2 labels") { _ = try ROC.averagePrecision(scores: [1, 2, 3], labels: [true, false]) }
        expectError("score 1 is nan; expected finite scores") { _ = try ROC.auc(scores: [1, .nan], labels: [true, false]) }
        expectError("labels hold only") { _ = try MannWhitney.test(scores: [1, 2], labels: [true, true]) }
    }

    // MARK: - Mann–Whitney U

    @Test func mannWhitneyMatchesScipy() throws {
        let fixture: AnalysisFixtures.MannWhitney = try AnalysisFixtures.load("mannwhitney.json")
        for c in fixture.cases {
            #expect(MannWhitney.test(c.x, c.y).u == c.u1, "\(c.name)")
            for (alternative, expected) in [(MannWhitney.Alternative.twoSided, c.twoSided), (.greater, c.greater), (.less, c.less)] {
                let p = MannWhitney.pValue(c.x, c.y, alternative: alternative)
                #expect(abs(p - expected) <= 1e-6 * expected, "\(c.name) \(alternative): \(p) vs \(expected)")
            }
        }
    }

    @Test func mannWhitneyTailAndDegenerateCases() throws {
        // Far in the tail erfc keeps full relative precision (1 − Φ(z) would round to 0).
        let p = MannWhitney.pValue((0..<300).map { Double($0) + 1000 }, (0..<300).map(Double.init), alternative: .greater)
        #expect(p > 0 && p < 1e-90)
        #expect(MannWhitney.pValue([2, 2, 2], [2, 2]) == 1)                  // σ = 0: scipy gives 1
        #expect(MannWhitney.pValue([], [1, 2]).isNaN)
        #expect(MannWhitney.pValue([1, .nan], [1, 2]).isNaN)
        // The labelled form tests positives against negatives.
        let scores: [Double] = [0.5, 2, 1.5, 3, 0.1, 2.5, 0.7]
        let labels = [false, true, false, true, false, true, false]
        let viaLabels = try MannWhitney.test(scores: scores, labels: labels, alternative: .greater)
        #expect(viaLabels == MannWhitney.test([2, 3, 2.5], [0.5, 1.5, 0.1, 0.7], alternative: .greater))
        // AUC = U₁ / (n₁·n₀).
        #expect(viaLabels.u / 12 == (try ROC.auc(scores: scores, labels: labels)))
    }

    @Test func midRanksAndTieTerm() {
        let (ranks, tieTerm) = Ranking.midRanks([3, 1, 3, 2, 3])
        #expect(ranks == [4, 1, 4, 2, 4])
        #expect(tieTerm == 24)                                            // one group of 3: 27 − 3
    }
}
