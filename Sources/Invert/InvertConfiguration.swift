import Foundation

/// Which end of the AUC scale INVERT searches (the reference's `mode`).
///
/// `positive` looks for the concept the neuron fires *for* (AUC → 1); `negative` for the concept that
/// silences it (AUC → 0). Bykov et al., "Labeling Neural Representations with Inverse Recognition",
/// NeurIPS 2023 (arXiv 2311.13594), §3.
public enum InvertMode: String, Codable, Sendable, CaseIterable {
    case positive, negative
}

/// The hyperparameters of INVERT's constrained beam search (METHODS.md §2.5–2.6).
///
/// The defaults are the paper's demo settings except `minFraction`, whose reference default is 0
/// (the demo uses 0.002). Decoding fills absent keys with these defaults, so a run-config file only
/// names what it changes.
///
/// ```swift
/// var configuration = InvertConfiguration()
/// configuration.length = 3
/// configuration.minFraction = 0.002
/// try configuration.validate()
/// ```
public struct InvertConfiguration: Codable, Sendable, Equatable {
    /// L, the maximum formula length: the number of literals combined (= beam-search depth), ≥ 1.
    public var length = 3
    /// B, how many formulas survive each depth and how many explanations are returned, ≥ 1.
    public var beamSize = 3
    /// Smallest admissible concept fraction T = |φ| / N (inclusive). The paper's α: it keeps
    /// explanations away from concepts so rare that a handful of images decide the AUC.
    public var minFraction = 0.0
    /// Largest admissible concept fraction (inclusive). 0.5 keeps explanations to minority concepts:
    /// without it ¬(anything rare) would be a cheap, uninformative high-AUC label.
    public var maxFraction = 0.5
    /// Maximise (`positive`) or minimise (`negative`) the AUC.
    public var mode: InvertMode = .positive
    /// Keep only this many literals (the most differentiating ones) as refinements; nil = all 2m.
    public var limitSearch: Int? = nil
    /// Reproduce the reference implementation exactly, including beam slots taken by several formulas
    /// with the same mask (e.g. `a & b` reached from `a` and from `b`). Off by default: duplicates
    /// waste beam slots on one explanation.
    public var referenceBeam = false

    public init() {}

    /// Throws an ``InvertError`` naming the first bad value and the range it must lie in.
    public func validate() throws {
        guard length >= 1 else { throw InvertError("length is \(length); expected a formula length ≥ 1") }
        guard beamSize >= 1 else { throw InvertError("beam size is \(beamSize); expected ≥ 1") }
        guard minFraction.isFinite, minFraction >= 0, minFraction <= 1 else {
            throw InvertError("min fraction is \(minFraction); expected a concept fraction in [0, 1]")
        }
        guard maxFraction.isFinite, maxFraction >= 0, maxFraction <= 1 else {
            throw InvertError("max fraction is \(maxFraction); expected a concept fraction in [0, 1]")
        }
        guard minFraction <= maxFraction else {
            throw InvertError("min fraction \(minFraction) exceeds max fraction \(maxFraction); expected min ≤ max")
        }
        if let limit = limitSearch, limit < 1 {
            throw InvertError("limit search is \(limit); expected ≥ 1 literals, or none for all")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case length, beamSize, minFraction, maxFraction, mode, limitSearch, referenceBeam
    }

    /// Decodes the keys present and keeps the defaults for the others.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = InvertConfiguration()
        length = try c.decodeIfPresent(Int.self, forKey: .length) ?? defaults.length
        beamSize = try c.decodeIfPresent(Int.self, forKey: .beamSize) ?? defaults.beamSize
        minFraction = try c.decodeIfPresent(Double.self, forKey: .minFraction) ?? defaults.minFraction
        maxFraction = try c.decodeIfPresent(Double.self, forKey: .maxFraction) ?? defaults.maxFraction
        mode = try c.decodeIfPresent(InvertMode.self, forKey: .mode) ?? defaults.mode
        limitSearch = try c.decodeIfPresent(Int.self, forKey: .limitSearch)
        referenceBeam = try c.decodeIfPresent(Bool.self, forKey: .referenceBeam) ?? defaults.referenceBeam
    }

    /// Encodes every key (`limitSearch` only when set).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(length, forKey: .length)
        try c.encode(beamSize, forKey: .beamSize)
        try c.encode(minFraction, forKey: .minFraction)
        try c.encode(maxFraction, forKey: .maxFraction)
        try c.encode(mode, forKey: .mode)
        try c.encodeIfPresent(limitSearch, forKey: .limitSearch)
        try c.encode(referenceBeam, forKey: .referenceBeam)
    }

    /// Whether a formula covering `positives` of `total` images may be an explanation: it must split
    /// the data (0 < T < 1, else the AUC is undefined) and respect the inclusive fraction bounds.
    func admits(positives: Int, total: Int) -> Bool {
        guard positives > 0, positives < total else { return false }
        let fraction = Double(positives) / Double(total)
        return fraction >= minFraction && fraction <= maxFraction
    }
}

/// Bad input to INVERT, as one line saying what was wrong and what was expected.
public struct InvertError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The message, one line.
    public let message: String

    public init(_ message: String) {
        self.message = message.replacingOccurrences(of: "\n", with: " ")
    }

    public var description: String { message }
}
