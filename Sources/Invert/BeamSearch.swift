import Analysis

/// INVERT's constrained beam search for one neuron (Bykov et al., "Labeling Neural Representations
/// with Inverse Recognition", NeurIPS 2023, arXiv 2311.13594, §3; reference behaviour in METHODS.md
/// §2.5).
///
/// Literals are cⱼ then ¬cⱼ for each non-constant concept in column order; that order breaks every
/// tie. Depth 1 keeps the best B admissible literals. Each further depth ranks the previous beam
/// together with every admissible `b ∧ λ` and `b ∨ λ` (b in beam order, λ from the expansion pool:
/// all literals by differentiability) and keeps the best B. Ties in AUC keep enumeration order, and
/// unless `referenceBeam` is set a mask seen earlier in that order is skipped, so the shortest,
/// earliest formula represents it.
///
/// Candidates are scored without building their masks. For a beam entry b and concept c one
/// intersection (size I, rank sum R_I) gives all four refinements:
/// b ∧ c = (I, R_I), b ∧ ¬c = (|b| − I, R_b − R_I), b ∨ c = (|b| + |c| − I, R_b + R_c − R_I) and
/// b ∨ ¬c = ¬(¬b ∧ c) = (N − |c| + I, R_N − R_c + R_I). The sums are exact (see
/// ``RankedActivations``), so the AUCs equal those of the built masks bit for bit. Only the few
/// candidates that reach the beam get a mask, after the sort; skipping duplicates then is the same
/// as skipping them before a stable sort, because equal masks have equal AUCs.
struct BeamSearch {
    let concepts: ConceptSet
    let configuration: InvertConfiguration
    /// Non-constant concepts in column order: the concepts that yield literals.
    let literalConcepts: [Int]
    /// |cⱼ| for every concept.
    let conceptCounts: [Int]

    init(concepts: ConceptSet, configuration: InvertConfiguration) {
        self.concepts = concepts
        self.configuration = configuration
        let counts = concepts.masks.map(\.cardinality), n = concepts.count
        conceptCounts = counts
        literalConcepts = counts.indices.filter { counts[$0] > 0 && counts[$0] < n }
    }

    /// A literal with its score for the current neuron.
    struct Literal {
        var concept: Int
        var negated: Bool
        var positives: Int
        var rankSum: Double
        var auc: Double
        var differentiability: Double
        /// R_c of the concept itself, whichever the polarity: the refinements need it.
        var conceptRankSum: Double
        var formula: Formula { .literal(concept: concept, negated: negated) }
    }

    /// A formula in the beam, with its mask so that it can be refined.
    struct Entry {
        var formula: Formula
        var mask: Bitset
        var positives: Int
        var rankSum: Double
        var auc: Double
    }

    /// A scored candidate before its mask exists: either a carried beam entry (`literal == nil`) or
    /// `beam[parent] ∧/∨ pool[literal]`. `order` is its place in the enumeration, the tie-breaker.
    private struct Candidate {
        var parent: Int
        var literal: Int?
        var isAnd: Bool
        var positives: Int
        var rankSum: Double
        var auc: Double
        var order: Int
    }

    /// Every literal of the neuron, in literal order (cⱼ, ¬cⱼ, …).
    func literals(_ ranked: RankedActivations) -> [Literal] {
        let n = concepts.count
        var out: [Literal] = []
        out.reserveCapacity(2 * literalConcepts.count)
        for j in literalConcepts {
            let c = conceptCounts[j]
            let r = ranked.rankSum(of: concepts.masks[j])
            for (negated, positives, rankSum) in [(false, c, r), (true, n - c, ranked.totalRankSum - r)] {
                out.append(Literal(concept: j, negated: negated, positives: positives, rankSum: rankSum,
                                   auc: ranked.auc(positives: positives, rankSum: rankSum),
                                   differentiability: ranked.differentiability(positives: positives, rankSum: rankSum),
                                   conceptRankSum: r))
            }
        }
        return out
    }

    /// Whether `a` ranks before `b` in the current mode.
    private func better(_ a: Double, _ b: Double) -> Bool {
        configuration.mode == .positive ? a > b : a < b
    }

    private func mask(of literal: Literal) -> Bitset {
        literal.negated ? ~concepts.masks[literal.concept] : concepts.masks[literal.concept]
    }

    /// The beam after each depth 1…L (the reference's `memorize_states`); the last is the answer.
    func run(_ ranked: RankedActivations) -> [[Entry]] {
        let n = concepts.count
        let all = literals(ranked)

        // Depth 1: admissible literals, best first, one per mask.
        let admissible = all.indices.filter { configuration.admits(positives: all[$0].positives, total: n) }
        let ranked1 = admissible.sorted { better(all[$0].auc, all[$1].auc) || (all[$0].auc == all[$1].auc && $0 < $1) }
        var beam: [Entry] = []
        var seen = Set<Bitset>()
        for i in ranked1 where beam.count < configuration.beamSize {
            let m = mask(of: all[i])
            if !configuration.referenceBeam && !seen.insert(m).inserted { continue }
            beam.append(Entry(formula: all[i].formula, mask: m, positives: all[i].positives,
                              rankSum: all[i].rankSum, auc: all[i].auc))
        }
        var history = [beam]

        // The expansion pool is not filtered by the fraction bounds: a common ¬c refines well.
        var pool = all.indices.sorted {
            all[$0].differentiability > all[$1].differentiability
                || (all[$0].differentiability == all[$1].differentiability && $0 < $1)
        }.map { all[$0] }
        if let limit = configuration.limitSearch, limit < pool.count { pool.removeSubrange(limit...) }

        guard configuration.length >= 2, !beam.isEmpty else { return history }
        for _ in 2...configuration.length {
            beam = expand(beam, pool: pool, ranked: ranked)
            history.append(beam)
        }
        return history
    }

    /// One depth: the previous beam plus its admissible refinements, best B kept.
    private func expand(_ beam: [Entry], pool: [Literal], ranked: RankedActivations) -> [Entry] {
        let n = concepts.count
        var candidates: [Candidate] = beam.enumerated().map { i, e in
            Candidate(parent: i, literal: nil, isAnd: true, positives: e.positives, rankSum: e.rankSum,
                      auc: e.auc, order: i)
        }
        candidates.reserveCapacity(beam.count * (1 + 2 * pool.count))
        var intersectionCount = [Int](repeating: -1, count: concepts.masks.count)
        var intersectionRankSum = [Double?](repeating: nil, count: concepts.masks.count)
        for (p, b) in beam.enumerated() {
            for j in intersectionCount.indices { intersectionCount[j] = -1; intersectionRankSum[j] = nil }
            for (l, literal) in pool.enumerated() {
                let j = literal.concept, c = conceptCounts[j]
                if intersectionCount[j] < 0 { intersectionCount[j] = ranked.intersectionCount(b.mask, concepts.masks[j]) }
                let i = intersectionCount[j]
                let andCount = literal.negated ? b.positives - i : i
                let orCount = literal.negated ? n - c + i : b.positives + c - i
                let andOK = configuration.admits(positives: andCount, total: n)
                let orOK = configuration.admits(positives: orCount, total: n)
                guard andOK || orOK else { continue }
                let ri: Double
                if let cached = intersectionRankSum[j] { ri = cached } else {
                    ri = ranked.intersectionRankSum(b.mask, concepts.masks[j])
                    intersectionRankSum[j] = ri
                }
                let rc = literal.conceptRankSum, rb = b.rankSum
                if andOK {
                    let r = literal.negated ? rb - ri : ri
                    candidates.append(Candidate(parent: p, literal: l, isAnd: true, positives: andCount, rankSum: r,
                                                auc: ranked.auc(positives: andCount, rankSum: r), order: candidates.count))
                }
                if orOK {
                    let r = literal.negated ? ranked.totalRankSum - rc + ri : rb + rc - ri
                    candidates.append(Candidate(parent: p, literal: l, isAnd: false, positives: orCount, rankSum: r,
                                                auc: ranked.auc(positives: orCount, rankSum: r), order: candidates.count))
                }
            }
        }
        candidates.sort { better($0.auc, $1.auc) || ($0.auc == $1.auc && $0.order < $1.order) }

        var next: [Entry] = []
        var seen = Set<Bitset>()
        for candidate in candidates where next.count < configuration.beamSize {
            let entry: Entry
            if let l = candidate.literal {
                let parent = beam[candidate.parent], literal = pool[l], m = mask(of: literal)
                entry = Entry(formula: candidate.isAnd ? .and(parent.formula, literal.formula) : .or(parent.formula, literal.formula),
                              mask: candidate.isAnd ? parent.mask & m : parent.mask | m,
                              positives: candidate.positives, rankSum: candidate.rankSum, auc: candidate.auc)
            } else {
                entry = beam[candidate.parent]
            }
            if !configuration.referenceBeam && !seen.insert(entry.mask).inserted { continue }
            next.append(entry)
        }
        return next
    }
}
