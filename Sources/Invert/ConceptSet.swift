import Analysis

/// The atomic concepts INVERT builds formulas from: one binary label per image and concept, stored
/// as one packed mask per concept (column), so that formulas evaluate 64 images per word.
///
/// Bykov et al. (NeurIPS 2023, arXiv 2311.13594) label ImageNet validation images with their class
/// and its WordNet hypernyms (1473 concepts for 50,000 images ≈ 9 MB of bits, METHODS.md §2.2).
///
/// ```swift
/// let concepts = try ConceptSet(names: ["dog", "cat", "animal"],
///                               labels: [[true, false, true], [false, true, true], [false, false, false]])
/// concepts.count              // 3 images
/// concepts.masks[2].bools     // [true, true, false]
/// ```
public struct ConceptSet: Sendable {
    /// Concept names in column order; formulas refer to concepts by index into this list.
    public let names: [String]
    /// One mask per concept: bit `i` says whether image `i` shows the concept.
    public let masks: [Bitset]
    /// N, the number of images.
    public let count: Int

    /// Concepts from their masks.
    ///
    /// - Throws: ``InvertError`` when the numbers of names and masks differ, there is no concept, a
    ///   name repeats, the masks differ in length or cover fewer than 2 images (an AUC needs images on
    ///   both sides of a split).
    public init(names: [String], masks: [Bitset]) throws {
        guard names.count == masks.count else {
            throw InvertError("\(names.count) concept names but \(masks.count) label columns; expected one name per column")
        }
        guard !names.isEmpty else { throw InvertError("no concepts; expected at least one label column") }
        var seen: [String: Int] = [:]
        for (j, name) in names.enumerated() {
            if let first = seen[name] {
                throw InvertError("concept name \"\(name)\" appears at columns \(first) and \(j); expected unique names")
            }
            seen[name] = j
        }
        let n = masks[0].count
        if let j = masks.firstIndex(where: { $0.count != n }) {
            throw InvertError("concept column \(j) has \(masks[j].count) labels but column 0 has \(n); expected one label per image in every column")
        }
        guard n >= 2 else {
            throw InvertError("concept labels cover \(n) image\(n == 1 ? "" : "s"); expected at least 2")
        }
        self.names = names
        self.masks = masks
        self.count = n
    }

    /// Concepts from a row-major N×m label matrix, `labels[image][concept]` (the layout of the
    /// reference's label tensor and CSV).
    ///
    /// - Throws: ``InvertError`` for a ragged matrix and the cases of ``init(names:masks:)``.
    public init(names: [String], labels: [[Bool]]) throws {
        let m = names.count
        for (i, row) in labels.enumerated() where row.count != m {
            throw InvertError("label row \(i) has \(row.count) entries; expected \(m), one per concept name")
        }
        var masks = [Bitset](repeating: Bitset(count: labels.count), count: m)
        for (i, row) in labels.enumerated() {
            for (j, label) in row.enumerated() where label { masks[j][i] = true }
        }
        try self.init(names: names, masks: masks)
    }

    /// Columns that hold all zeros or all ones. They never split the images, so neither they nor their
    /// negations can be literals: every formula built on them is equivalent to a shorter one.
    public var constantConcepts: [Int] {
        masks.indices.filter { let c = masks[$0].cardinality; return c == 0 || c == count }
    }
}
