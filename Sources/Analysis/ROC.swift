import Foundation

/// Receiver-operating-characteristic statistics of a score against binary labels, matching
/// scikit-learn's `roc_auc_score`, `roc_curve` and `average_precision_score` including ties.
///
/// INVERT scores a neuron–concept pair by the AUC of "activation predicts concept" and DORA checks
/// artifact detectors the same way (METHODS.md §1.7, §2.4). Scores are ranked raw: no sigmoid is
/// applied (the reference's torchmetrics squashes large activations into artificial float32 ties).
public enum ROC {
    /// Area under the ROC curve, `P(s⁺ > s⁻) + ½·P(s⁺ = s⁻)`, from mid-ranks: with R₁ the sum of the
    /// positives' mid-ranks in the pooled ascending order, `AUC = (R₁ − n₁(n₁+1)/2) / (n₁·n₀)`, the
    /// Mann–Whitney U₁ over its maximum. This equals the trapezoidal area scikit-learn integrates
    /// (ties become diagonal segments) and is exact, O(n log n).
    ///
    /// - Throws: ``AnalysisError`` when the counts differ, a score is not finite, or a class is absent.
    public static func auc(scores: [Double], labels: [Bool]) throws -> Double {
        try AnalysisError.checkScores(scores, labels: labels)
        let ranks = Ranking.midRanks(scores).ranks
        var positives = 0.0, rankSum = 0.0
        for (rank, label) in zip(ranks, labels) where label {
            positives += 1
            rankSum += rank
        }
        let negatives = Double(labels.count) - positives
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }

    /// ROC points like scikit-learn's `roc_curve(drop_intermediate=False)`: (0, 0) first, then one point
    /// per distinct score from the highest down, each the (false-positive rate, true-positive rate) of
    /// flagging every point whose score is at least that threshold; the last point is (1, 1).
    ///
    /// - Throws: ``AnalysisError`` as ``auc(scores:labels:)``.
    public static func curve(scores: [Double], labels: [Bool]) throws -> [(fpr: Double, tpr: Double)] {
        try AnalysisError.checkScores(scores, labels: labels)
        let steps = cumulativeCounts(scores: scores, labels: labels)
        let positives = Double(steps.last!.truePositives), negatives = Double(steps.last!.falsePositives)
        return [(0, 0)] + steps.map { (Double($0.falsePositives) / negatives, Double($0.truePositives) / positives) }
    }

    /// Average precision as scikit-learn's `average_precision_score`: `Σₖ (Rₖ − Rₖ₋₁)·Pₖ` over the
    /// distinct thresholds from the highest down, precision and recall taken at each threshold (ties
    /// enter together) and no interpolation between them.
    ///
    /// - Throws: ``AnalysisError`` as ``auc(scores:labels:)``.
    public static func averagePrecision(scores: [Double], labels: [Bool]) throws -> Double {
        try AnalysisError.checkScores(scores, labels: labels)
        let steps = cumulativeCounts(scores: scores, labels: labels)
        let positives = Double(steps.last!.truePositives)
        var previousRecall = 0.0, sum = 0.0
        for step in steps {
            let recall = Double(step.truePositives) / positives
            let precision = Double(step.truePositives) / Double(step.truePositives + step.falsePositives)
            sum += (recall - previousRecall) * precision
            previousRecall = recall
        }
        return sum
    }

    /// Counts of true and false positives when thresholding at each distinct score, highest first
    /// (scikit-learn's `_binary_clf_curve`).
    static func cumulativeCounts(scores: [Double], labels: [Bool]) -> [(truePositives: Int, falsePositives: Int)] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var out: [(truePositives: Int, falsePositives: Int)] = []
        var tp = 0, fp = 0
        for (position, i) in order.enumerated() {
            if labels[i] { tp += 1 } else { fp += 1 }
            let last = position == order.count - 1
            if last || scores[order[position + 1]] != scores[i] { out.append((tp, fp)) }
        }
        return out
    }
}

/// The Mann–Whitney U test (Wilcoxon rank-sum) with the normal approximation, as scipy's
/// `mannwhitneyu(x, y, method="asymptotic", use_continuity=True)` computes it. INVERT reports this
/// p-value next to each AUC (METHODS.md §2.4).
public enum MannWhitney {
    /// Which difference the test looks for (scipy's `alternative`).
    public enum Alternative: String, CaseIterable, Codable, Sendable {
        /// x and y differ in either direction.
        case twoSided = "two-sided"
        /// x tends to be larger than y.
        case greater
        /// x tends to be smaller than y.
        case less
    }

    /// U₁ (scipy's `statistic`) and the p-value.
    public struct Result: Sendable, Equatable {
        /// U of `x`: the number of (x, y) pairs with x > y, ties counting ½.
        public var u: Double
        public var pValue: Double
    }

    /// The p-value of the U test of `x` against `y`; see ``test(_:_:alternative:)``.
    public static func pValue(_ x: [Double], _ y: [Double], alternative: Alternative = .twoSided) -> Double {
        test(x, y, alternative: alternative).pValue
    }

    /// The U test of `x` against `y` with the asymptotic normal null distribution.
    ///
    /// With mid-ranks R over the pooled sample, U₁ = R(x) − n₁(n₁+1)/2, U₂ = n₁n₂ − U₁ and
    /// σ² = n₁n₂/12 · ((n+1) − Σ(t³ − t)/(n(n−1))) over the tie groups of size t. Two-sided:
    /// z = (max(U₁, U₂) − n₁n₂/2 − ½)/σ and p = 2·sf(z); "greater" uses U₁ and "less" U₂ with p = sf(z);
    /// p is clipped to [0, 1]. The survival function is `erfc(z/√2)/2`, accurate far in the tail where
    /// `1 − Φ(z)` would round to 0 (INVERT's example reaches p ≈ 6e-89). All-equal samples give σ = 0
    /// and p = 1, like scipy. Empty or non-finite input gives NaN instead of scipy's exception.
    public static func test(_ x: [Double], _ y: [Double], alternative: Alternative = .twoSided) -> Result {
        guard !x.isEmpty, !y.isEmpty, x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else {
            return Result(u: .nan, pValue: .nan)
        }
        let n1 = Double(x.count), n2 = Double(y.count)
        let ranking = Ranking.midRanks(x + y)
        let r1 = ranking.ranks[0..<x.count].reduce(0, +)
        let u1 = r1 - n1 * (n1 + 1) / 2
        return Result(u: u1, pValue: pValue(u1: u1, n1: n1, n2: n2, tieTerm: ranking.tieTerm, alternative: alternative))
    }

    /// The p-value of ``test(_:_:alternative:)`` from its sufficient statistics, for callers that
    /// already hold the pooled ranking: INVERT ranks a neuron's activations once and scores thousands
    /// of concept masks against it, so re-ranking per mask would dominate its cost.
    ///
    /// - Parameters:
    ///   - u1: U of the first sample, `R₁ − n₁(n₁+1)/2` with R₁ its mid-rank sum in the pooled order.
    ///   - n1: size of the first sample; `n2` of the second. Both must be positive.
    ///   - tieTerm: Σ(t³ − t) over the tie groups of the pooled sample (``Ranking/midRanks(_:)``).
    /// - Returns: the asymptotic p-value with tie and continuity correction, in [0, 1]; NaN when a
    ///   sample is empty or an input is not finite.
    public static func pValue(u1: Double, n1: Double, n2: Double, tieTerm: Double,
                              alternative: Alternative = .twoSided) -> Double {
        guard n1 > 0, n2 > 0, u1.isFinite, n1.isFinite, n2.isFinite, tieTerm.isFinite else { return .nan }
        let n = n1 + n2
        let u2 = n1 * n2 - u1
        let u: Double, factor: Double
        switch alternative {
        case .twoSided: (u, factor) = (max(u1, u2), 2)
        case .greater: (u, factor) = (u1, 1)
        case .less: (u, factor) = (u2, 1)
        }
        let sigma = (n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))).squareRoot()
        let z = (u - n1 * n2 / 2 - 0.5) / sigma
        let p = factor * 0.5 * erfc(z / 2.0.squareRoot())
        return min(max(p, 0), 1)
    }

    /// The test of the scores of positives against those of negatives (INVERT passes the two groups of
    /// one neuron's activations). Throws like ``ROC/auc(scores:labels:)``.
    public static func test(scores: [Double], labels: [Bool], alternative: Alternative = .twoSided) throws -> Result {
        try AnalysisError.checkScores(scores, labels: labels)
        let positives = zip(scores, labels).filter(\.1).map(\.0)
        let negatives = zip(scores, labels).filter { !$0.1 }.map(\.0)
        return test(positives, negatives, alternative: alternative)
    }
}

/// Mid-ranks ("average" method of `scipy.stats.rankdata`) and the tie-correction term.
public enum Ranking {
    /// 1-based ranks, tied values sharing the mean of their positions, and Σ(t³ − t) over tie groups.
    ///
    /// Mid-ranks are multiples of ½, so sums of them (rank sums, U statistics) are exact in `Double`
    /// for any realistic sample size; INVERT relies on this to give equal masks bit-equal AUCs.
    public static func midRanks(_ values: [Double]) -> (ranks: [Double], tieTerm: Double) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var tieTerm = 0.0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, values[order[end]] == values[order[start]] { end += 1 }
            let rank = Double(start + end + 1) / 2                // mean of positions start+1 ... end
            for k in start..<end { ranks[order[k]] = rank }
            let t = Double(end - start)
            tieTerm += t * t * t - t
            start = end
        }
        return (ranks, tieTerm)
    }
}
