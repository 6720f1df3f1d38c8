import Analysis

/// A Boolean formula over atomic concepts, as INVERT grows it: left-deep, one literal per step
/// (φ₁ = λ, φₗ₊₁ = φₗ ∧ λ or φₗ ∨ λ, METHODS.md §2.3). Bykov et al., "Labeling Neural
/// Representations with Inverse Recognition", NeurIPS 2023 (arXiv 2311.13594), §3.
///
/// The reference keeps sympy expressions, which canonicalise (and so hide how a formula was
/// reached); this tree keeps the construction order, which is what the search ranks ties by, and
/// evaluates on bit masks.
///
/// ```swift
/// let f = Formula.and(.or(.literal(concept: 0, negated: false), .literal(concept: 1, negated: false)),
///                     .literal(concept: 2, negated: true))
/// f.text(names: ["dog", "cat", "indoor"])   // "(dog | cat) & ~indoor"
/// f.length                                  // 3
/// ```
public indirect enum Formula: Hashable, Sendable {
    /// Concept `concept` (a column of the ``ConceptSet``) or its negation.
    case literal(concept: Int, negated: Bool)
    /// Conjunction; the search always puts a literal on the right.
    case and(Formula, Formula)
    /// Disjunction; the search always puts a literal on the right.
    case or(Formula, Formula)

    /// Number of literals combined (counting repeats): the depth at which the search built it.
    public var length: Int {
        switch self {
        case .literal: return 1
        case .and(let l, let r), .or(let l, let r): return l.length + r.length
        }
    }

    /// The distinct concepts the formula mentions, ascending.
    public var concepts: [Int] {
        var out = Set<Int>()
        collectConcepts(into: &out)
        return out.sorted()
    }

    private func collectConcepts(into out: inout Set<Int>) {
        switch self {
        case .literal(let concept, _): out.insert(concept)
        case .and(let l, let r), .or(let l, let r):
            l.collectConcepts(into: &out)
            r.collectConcepts(into: &out)
        }
    }

    /// Readable form with the reference's operators: `~name` for a negated literal, `&` and `|`
    /// between operands, parentheses only where the left operand is a binary node of the other
    /// operator (`(a | b) & c`; `a & ~b & c` needs none because ∧ and ∨ associate).
    ///
    /// A concept index outside `names` prints as `#index` rather than trapping, so a formula shown
    /// with the wrong name list is visibly wrong instead of crashing a report.
    public func text(names: [String]) -> String {
        switch self {
        case .literal(let concept, let negated):
            let name = names.indices.contains(concept) ? names[concept] : "#\(concept)"
            return negated ? "~" + name : name
        case .and(let l, let r):
            return l.operandText(names: names, underAnd: true) + " & " + r.operandText(names: names, underAnd: true)
        case .or(let l, let r):
            return l.operandText(names: names, underAnd: false) + " | " + r.operandText(names: names, underAnd: false)
        }
    }

    private func operandText(names: [String], underAnd: Bool) -> String {
        switch self {
        case .literal: return text(names: names)
        case .and: return underAnd ? text(names: names) : "(" + text(names: names) + ")"
        case .or: return underAnd ? "(" + text(names: names) + ")" : text(names: names)
        }
    }

    /// The images where the formula holds.
    public func mask(in concepts: ConceptSet) -> Bitset {
        switch self {
        case .literal(let concept, let negated):
            return negated ? ~concepts.masks[concept] : concepts.masks[concept]
        case .and(let l, let r): return l.mask(in: concepts) & r.mask(in: concepts)
        case .or(let l, let r): return l.mask(in: concepts) | r.mask(in: concepts)
        }
    }
}

/// One labelled explanation of a neuron: a formula and how well the neuron's activation recognises
/// it (the reference's result records plus the p-value it computes separately, METHODS.md §2.5).
public struct Explanation: Sendable, Equatable {
    /// The concept formula.
    public var formula: Formula
    /// The beam-search depth at which the formula entered the beam (= `formula.length`); a shorter
    /// formula can outlive deeper ones when it scores better.
    public var length: Int
    /// ROC-AUC of the activation as a score for the formula: P(a⁺ > a⁻) + ½·P(a⁺ = a⁻).
    public var auc: Double
    /// 2·|0.5 − AUC| ∈ [0, 1]: distance from chance regardless of direction.
    public var differentiability: Double
    /// T = |mask| / N, the share of images where the formula holds.
    public var conceptFraction: Double
    /// Two-sided Mann–Whitney U p-value (asymptotic, tie- and continuity-corrected, as scipy's
    /// `mannwhitneyu`) of the activations inside against outside the mask.
    public var pValue: Double

    public init(formula: Formula, length: Int, auc: Double, differentiability: Double,
                conceptFraction: Double, pValue: Double) {
        self.formula = formula
        self.length = length
        self.auc = auc
        self.differentiability = differentiability
        self.conceptFraction = conceptFraction
        self.pValue = pValue
    }
}
