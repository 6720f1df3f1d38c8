import Analysis

/// One neuron's activations ranked once, so that the AUC of any image mask is a rank sum over its
/// set bits: AUC = (R₁ − n₁(n₁+1)/2) / (n₁·n₀) with R₁ the positives' mid-rank sum (METHODS.md §2.4).
///
/// Bykov et al. (NeurIPS 2023, arXiv 2311.13594) score tens of thousands of formulas per neuron; the
/// reference recomputes a ROC curve per formula. Here the ranking is shared and each formula costs one
/// pass over the words of its mask, with no allocation.
///
/// Activations are ranked raw (Float widened to Double): the reference's torchmetrics squashes them
/// with a sigmoid first, which in float32 merges distinct large activations into artificial ties.
///
/// Mid-ranks are multiples of ½, so every rank sum and U below is an exact `Double`. The AUC of a
/// mask is therefore a function of the mask alone, whichever way its rank sum was assembled (directly,
/// from the complement, or by inclusion–exclusion), and equal masks tie exactly in the beam's sort.
struct RankedActivations: Sendable {
    /// Mid-rank (1-based, ties averaged) of each image's activation.
    let ranks: [Double]
    /// Σ(t³ − t) over groups of tied activations, for the p-value's variance.
    let tieTerm: Double
    /// N(N+1)/2, the rank sum of all images.
    let totalRankSum: Double

    /// N.
    var count: Int { ranks.count }

    init(_ activations: [Float]) {
        let ranking = Ranking.midRanks(activations.map(Double.init))
        ranks = ranking.ranks
        tieTerm = ranking.tieTerm
        let n = Double(activations.count)
        totalRankSum = n * (n + 1) / 2
    }

    /// U₁ of the images in a mask with `positives` set bits and rank sum `rankSum`.
    @inline(__always)
    func u(positives: Int, rankSum: Double) -> Double {
        let n1 = Double(positives)
        return rankSum - n1 * (n1 + 1) / 2
    }

    /// The AUC of a mask from its size and rank sum; NaN when the mask is empty or full.
    @inline(__always)
    func auc(positives: Int, rankSum: Double) -> Double {
        let n1 = Double(positives), n0 = Double(count - positives)
        return u(positives: positives, rankSum: rankSum) / (n1 * n0)
    }

    /// 2·|0.5 − AUC|, computed as |2U − n₁n₀| / (n₁n₀) so that a literal and its negation (U and
    /// n₁n₀ − U) get bit-identical values and keep their literal order in the expansion pool.
    @inline(__always)
    func differentiability(positives: Int, rankSum: Double) -> Double {
        let n1 = Double(positives), n0 = Double(count - positives)
        return abs(2 * u(positives: positives, rankSum: rankSum) - n1 * n0) / (n1 * n0)
    }

    /// The full record of a mask, including the two-sided Mann–Whitney p-value of the activations
    /// inside against outside it.
    func explanation(formula: Formula, positives: Int, rankSum: Double) -> Explanation {
        let n1 = Double(positives), n0 = Double(count - positives)
        let u1 = u(positives: positives, rankSum: rankSum)
        return Explanation(formula: formula, length: formula.length,
                           auc: auc(positives: positives, rankSum: rankSum),
                           differentiability: differentiability(positives: positives, rankSum: rankSum),
                           conceptFraction: n1 / Double(count),
                           pValue: MannWhitney.pValue(u1: u1, n1: n1, n2: n0, tieTerm: tieTerm, alternative: .twoSided))
    }

    /// The sum of the ranks of the images in `mask`. Walks the smaller of the mask and its complement
    /// (the other side follows from the total), peeling set bits with `trailingZeroBitCount`.
    func rankSum(of mask: Bitset) -> Double {
        precondition(mask.count == count, "RankedActivations: mask of \(mask.count) bits for \(count) images")
        let complement = mask.cardinality > count / 2
        let tail = Bitset.tailMask(count)
        let flip: UInt64 = complement ? ~0 : 0
        var sum = 0.0
        ranks.withUnsafeBufferPointer { r in
            mask.words.withUnsafeBufferPointer { w in
                for i in 0..<w.count {
                    var bits = w[i] ^ flip
                    if i == w.count - 1 { bits &= tail }
                    sum += r.rankSum(bits, base: i << 6)
                }
            }
        }
        return complement ? totalRankSum - sum : sum
    }

    /// The size of `a & b` without building it. The search takes it once per beam entry and concept
    /// and derives ∨ and the negated literals by inclusion–exclusion; it is cheap (popcounts), so the
    /// fraction bounds are checked before any rank is summed.
    func intersectionCount(_ a: Bitset, _ b: Bitset) -> Int {
        a.intersectionCount(b)
    }

    /// The rank sum of `a & b` without building it.
    func intersectionRankSum(_ a: Bitset, _ b: Bitset) -> Double {
        var sum = 0.0
        ranks.withUnsafeBufferPointer { r in
            a.words.withUnsafeBufferPointer { x in
                b.words.withUnsafeBufferPointer { y in
                    for i in 0..<x.count { sum += r.rankSum(x[i] & y[i], base: i << 6) }
                }
            }
        }
        return sum
    }
}

extension UnsafeBufferPointer where Element == Double {
    /// Σ self[base + k] over the set bits k of `bits`.
    @inline(__always)
    fileprivate func rankSum(_ bits: UInt64, base: Int) -> Double {
        var bits = bits, sum = 0.0
        while bits != 0 {
            sum += self[base + bits.trailingZeroBitCount]
            bits &= bits &- 1
        }
        return sum
    }
}
