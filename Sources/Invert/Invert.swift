import Analysis
import Dispatch
import Foundation
import NNRuntime

/// INVERT: labels a neuron with the Boolean concept formula its activation recognises best, scored by
/// ROC-AUC with a Mann–Whitney p-value. Bykov et al., "Labeling Neural Representations with Inverse
/// Recognition", NeurIPS 2023 (arXiv 2311.13594); method notes in METHODS.md §2.
///
/// Construct once per concept set and configuration, then explain one neuron or a whole layer. Only
/// image-level labels are needed, no segmentation masks: the neuron is treated as a score and the
/// formula as the class it should rank first.
///
/// ```swift
/// let concepts = try ConceptSet(names: names, labels: labels)        // labels[image][concept]
/// var configuration = InvertConfiguration()
/// configuration.minFraction = 0.002
/// let invert = try Invert(concepts: concepts, configuration: configuration)
/// let best = try invert.explain(activations)[0]                        // activations[image]
/// print(best.formula.text(names: concepts.names), best.auc, best.pValue)
/// ```
public struct Invert: Sendable {
    /// The atomic concepts formulas are built from.
    public let concepts: ConceptSet
    /// The search settings, validated.
    public let configuration: InvertConfiguration
    private let search: BeamSearch

    /// - Throws: ``InvertError`` when the configuration is invalid (see ``InvertConfiguration/validate()``).
    public init(concepts: ConceptSet, configuration: InvertConfiguration) throws {
        try configuration.validate()
        self.concepts = concepts
        self.configuration = configuration
        self.search = BeamSearch(concepts: concepts, configuration: configuration)
    }

    /// Explains one neuron.
    ///
    /// - Parameter activations: the neuron's activation on each image, in the concept set's image
    ///   order (a convolutional channel must be pooled to one number per image first).
    /// - Returns: up to B explanations, best first: highest AUC in positive mode, lowest in negative.
    ///   Empty when no formula satisfies the fraction bounds.
    /// - Throws: ``InvertError`` when the count differs from the number of images or a value is not finite.
    public func explain(_ activations: [Float]) throws -> [Explanation] {
        try beams(activations).last ?? []
    }

    /// The beam after each depth 1…L (the reference's `memorize_states`): element ℓ − 1 holds the
    /// best formulas of length ≤ ℓ, and the last element is ``explain(_:)``'s answer.
    public func beams(_ activations: [Float]) throws -> [[Explanation]] {
        let ranked = try rank(activations)
        return search.run(ranked).map { beam in
            beam.map { ranked.explanation(formula: $0.formula, positives: $0.positives, rankSum: $0.rankSum) }
        }
    }

    /// Scores any formula against one neuron, e.g. a hand-written hypothesis or a formula from
    /// another neuron (`length` is the formula's length).
    ///
    /// - Throws: ``InvertError`` for bad activations, a concept index outside the set, or a formula
    ///   that holds for no image or for all of them (its AUC is undefined).
    public func score(_ formula: Formula, activations: [Float]) throws -> Explanation {
        let ranked = try rank(activations)
        if let bad = formula.concepts.first(where: { !concepts.names.indices.contains($0) }) {
            throw InvertError("formula uses concept \(bad); expected indices 0..<\(concepts.names.count)")
        }
        let mask = formula.mask(in: concepts)
        let positives = mask.cardinality
        guard positives > 0, positives < concepts.count else {
            throw InvertError("formula \(formula.text(names: concepts.names)) holds for \(positives) of \(concepts.count) images; expected a proper subset")
        }
        return ranked.explanation(formula: formula, positives: positives, rankSum: ranked.rankSum(of: mask))
    }

    /// The AUC of every atomic concept for one neuron (the positive literal; ¬c scores 1 − AUC), NaN
    /// for constant concepts: the per-neuron row of a layer's concept heatmap.
    public func conceptAUCs(_ activations: [Float]) throws -> [Double] {
        let ranked = try rank(activations)
        let n = concepts.count
        return concepts.masks.map { mask in
            let positives = mask.cardinality
            guard positives > 0, positives < n else { return .nan }
            return ranked.auc(positives: positives, rankSum: ranked.rankSum(of: mask))
        }
    }

    /// Explains many neurons of one layer, in parallel across neurons.
    ///
    /// Each neuron is searched independently, so the result does not depend on the number of threads
    /// or their scheduling.
    ///
    /// - Parameters:
    ///   - activations: a `[N, k]` tensor, row = image (in the concept set's order), column = neuron.
    ///   - neurons: the columns to explain, in the order of the result; nil for all k.
    ///   - progress: called with (neurons done, neurons in all) after each neuron, from any thread.
    /// - Returns: one ``explain(_:)`` result per requested neuron.
    /// - Throws: ``InvertError`` for a tensor that is not `[N, k]`, a neuron index out of range, or a
    ///   non-finite activation (named by neuron and image) — all before any search starts.
    public func explain(layer activations: Tensor, neurons: [Int]? = nil,
                        progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [[Explanation]] {
        let columns = try checkLayer(activations, neurons: neurons)
        let k = activations.shape[1], n = concepts.count
        let results = ResultSlots(count: columns.count)
        let counter = ProgressCounter(total: columns.count, report: progress)
        activations.withUnsafeBufferPointer { values in
            DispatchQueue.concurrentPerform(iterations: columns.count) { slot in
                let column = columns[slot]
                let neuron = (0..<n).map { values[$0 * k + column] }
                results.store(slot, Result { try explain(neuron) })
                counter.advance()
            }
        }
        return try results.values()
    }

    // MARK: - Input checks

    private func rank(_ activations: [Float]) throws -> RankedActivations {
        guard activations.count == concepts.count else {
            throw InvertError("\(activations.count) activations but \(concepts.count) labelled images; expected one activation per image")
        }
        if let i = activations.firstIndex(where: { !$0.isFinite }) {
            throw InvertError("activation of image \(i) is \(activations[i]); expected finite activations")
        }
        return RankedActivations(activations)
    }

    private func checkLayer(_ activations: Tensor, neurons: [Int]?) throws -> [Int] {
        guard activations.rank == 2, activations.shape[0] == concepts.count else {
            throw InvertError("activations have shape \(activations.shape); expected [\(concepts.count), neurons] (one row per labelled image)")
        }
        let k = activations.shape[1]
        let columns = neurons ?? Array(0..<k)
        if let bad = columns.first(where: { $0 < 0 || $0 >= k }) {
            throw InvertError("neuron \(bad) is out of range; expected indices 0..<\(k)")
        }
        let wanted = Set(columns)
        try activations.withUnsafeBufferPointer { values in
            for i in 0..<values.count where !values[i].isFinite && wanted.contains(i % k) {
                throw InvertError("activation of neuron \(i % k) on image \(i / k) is \(values[i]); expected finite activations")
            }
        }
        return columns
    }
}

/// Per-neuron results written by concurrent workers, each to its own slot.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Result<[Explanation], Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ slot: Int, _ result: Result<[Explanation], Error>) {
        lock.lock(); defer { lock.unlock() }
        slots[slot] = result
    }

    /// The results in slot order; rethrows the first failure.
    func values() throws -> [[Explanation]] {
        try slots.map { try $0!.get() }
    }
}

/// Counts finished neurons and reports each step.
private final class ProgressCounter: @unchecked Sendable {
    private var done = 0
    private let total: Int
    private let report: (@Sendable (Int, Int) -> Void)?
    private let lock = NSLock()

    init(total: Int, report: (@Sendable (Int, Int) -> Void)?) {
        self.total = total
        self.report = report
    }

    func advance() {
        lock.lock()
        done += 1
        let now = done
        lock.unlock()
        report?(now, total)
    }
}
