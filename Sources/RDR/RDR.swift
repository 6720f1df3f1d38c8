import Analysis
import Foundation

/// Why an RDR step cannot run; one line naming the value and what was expected.
public struct RDRError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The two knobs of RDR's selection (METHODS.md §3.6).
public struct RegionSettings: Sendable, Hashable, Codable {
    /// Size of the seed neighbourhood S, the target included (coherence: a larger k leaves fewer
    /// units on which all of S agree).
    public var k: Int
    /// Number of principal units, i.e. hyperplanes bounding the region (a larger t gives a tighter,
    /// purer, smaller region).
    public var t: Int

    public init(k: Int = 8, t: Int = 10) {
        self.k = k
        self.t = t
    }

    /// Throws unless k ≥ 1 and t ≥ 1.
    public func validate() throws {
        guard k >= 1 else { throw RDRError("k = \(k): the neighbourhood needs at least the target (k ≥ 1)") }
        guard t >= 1 else { throw RDRError("t = \(t): a region needs at least one principal unit (t ≥ 1)") }
    }
}

/// One Relaxed Decision Region: the target's neighbourhood, the principal units with their states,
/// and the rows inside the region.
public struct Region: Sendable {
    /// The target's row, or nil for a target given as a configuration outside the matrix.
    public var target: Int?
    /// S as rows with their Hamming distances to the target, nearest first: for a row target the
    /// target itself leads at distance 0 (k entries); for an external target its k − 1 nearest rows.
    public var neighbours: [(index: Int, distance: Int)]
    /// N*: flat unit indices, highest score first.
    public var principalUnits: [Int]
    /// c_p: the state (on = true) that all of S shares on each principal unit.
    public var states: [Bool]
    /// |p_j − q_j| of each principal unit: how unusual S's shared state is in the whole set.
    public var scores: [Double]
    /// |U|: the number of units on which all of S agree.
    public var candidates: Int
    /// R: every row whose principal units are in the principal states, ascending.
    public var members: [Int]

    /// Purity of the region for per-row labels (``RDR/purity(_:members:)``).
    public func purity(_ labels: [Int]) -> Double { RDR.purity(labels, members: members) }
}

/// RDR (Chang, Kwon, Choi, "Understanding Distributed Representations of Concepts in Deep Neural
/// Networks without Supervision", AAAI 2024, arXiv 2312.17285): for a target instance, the k nearest
/// configurations form the seed set S; the t units on which S agrees unanimously and which are most
/// unusual over the whole set are the principal units N*; every instance whose configuration has
/// S's states on N* lies in the same intersection of t half-spaces of the feature space — the
/// Relaxed Decision Region — and the instances inside form a concept group.
///
/// Selection follows the reference code's `RDR.selection(k, t)` (METHODS.md §3.4) with fully
/// deterministic ties, where the reference's unstable numpy sorts leave them arbitrary:
///
/// 1. neighbours: the target, then the other rows by (Hamming distance, row index); S = the first
///    k. The target leads even when an identical row has a lower index, so S always contains it;
/// 2. p_j = share of S with unit j on; candidates U = { j : p_j ∈ {0, 1} };
/// 3. q_j = share of all N rows with unit j on (cached once per matrix);
/// 4. score_j = |p_j − q_j|; N* = the t best candidates by score, ties by lower unit index;
/// 5. c_p = (p_j > 0.5) on N*; R = rows equal to c_p on every unit of N*.
///
/// Scores are ranked exactly: on a candidate |p − q| is (N − onCount)/N when S is on and
/// onCount/N when it is off, so the integer numerators are compared and equal scores are true ties
/// (the float |p − q| of the reference can split them by rounding).
///
/// With fewer than t candidates all of them are used; with none (S disagrees on every unit) the
/// region has no bounding hyperplane and every row is a member.
public struct RDR: Sendable {
    public let configurations: ConfigurationMatrix
    public let settings: RegionSettings
    /// Per-unit on counts over all rows (N·q_j).
    public let onCounts: [Int]

    /// Validates the settings and counts the per-unit on-rates once for all targets.
    public init(configurations: ConfigurationMatrix, settings: RegionSettings = RegionSettings()) throws {
        try settings.validate()
        guard configurations.rows > 0 else { throw RDRError("the configuration matrix has no rows") }
        self.configurations = configurations
        self.settings = settings
        self.onCounts = configurations.onCounts()
    }

    /// The region of row `forRow`: S = that row and its k − 1 nearest other rows.
    public func region(forRow target: Int) throws -> Region {
        let n = configurations.rows
        guard target >= 0 && target < n else { throw RDRError("target row \(target) is outside 0...\(n - 1)") }
        guard settings.k <= n else { throw RDRError("k = \(settings.k) neighbours, but the matrix has only \(n) rows") }
        let distances = configurations.hammingDistances(to: configurations.row(target))
        let nearest = RDR.nearest(distances, count: settings.k, first: target)
        let seed = nearest.map { configurations.row($0) }
        return select(target: target, neighbours: nearest.map { ($0, distances[$0]) }, seed: seed)
    }

    /// The region of a configuration outside the matrix (an image that is not in the reference set):
    /// S = the target and its k − 1 nearest rows; members are rows only.
    public func region(for target: Bitset) throws -> Region {
        let n = configurations.rows
        guard target.count == configurations.units else {
            throw RDRError("the target has \(target.count) units, the configurations \(configurations.units)")
        }
        guard settings.k - 1 <= n else { throw RDRError("k = \(settings.k) needs \(settings.k - 1) rows besides the target, the matrix has \(n)") }
        let distances = configurations.hammingDistances(to: target)
        let nearest = RDR.nearest(distances, count: settings.k - 1, first: nil)
        let seed = [target] + nearest.map { configurations.row($0) }
        return select(target: nil, neighbours: nearest.map { ($0, distances[$0]) }, seed: seed)
    }

    /// The `count` smallest distances by (distance, index), `first` (the target) ahead of all.
    /// A bounded insertion: one pass over the rows, O(N + insertions · count).
    static func nearest(_ distances: [Int], count: Int, first: Int?) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(count + 1)
        if let first { best.append(first) }
        guard count > best.count else { return Array(best.prefix(count)) }
        let fixed = best.count
        for (i, d) in distances.enumerated() where i != first {
            if best.count == count {
                // Rows come in index order, so an equal distance never displaces an earlier row.
                guard d < distances[best[count - 1]] else { continue }
                best.removeLast()
            }
            var pos = best.count
            while pos > fixed && distances[best[pos - 1]] > d { pos -= 1 }
            best.insert(i, at: pos)
        }
        return best
    }

    /// Steps 2–5 for the seed configurations S (the target's included).
    private func select(target: Int?, neighbours: [(index: Int, distance: Int)], seed: [Bitset]) -> Region {
        let n = configurations.rows
        // Unanimous units: on in every row of S (AND) or off in every row (NOR).
        var allOn = seed[0], anyOn = seed[0]
        for s in seed.dropFirst() { allOn &= s; anyOn |= s }
        let candidates = allOn | ~anyOn
        // Top t by (score numerator desc, unit asc); candidates arrive in ascending unit order, so an
        // equal score never displaces an earlier unit.
        let t = settings.t
        var top: [(unit: Int, score: Int)] = []
        top.reserveCapacity(t + 1)
        candidates.forEachSetBit { j in
            let score = allOn[j] ? n - onCounts[j] : onCounts[j]
            if top.count == t {
                guard score > top[t - 1].score else { return }
                top.removeLast()
            }
            var pos = top.count
            while pos > 0 && top[pos - 1].score < score { pos -= 1 }
            top.insert((j, score), at: pos)
        }
        let principal = top.map(\.unit)
        let states = principal.map { allOn[$0] }
        let members = RDR.members(configurations, units: principal, states: states)
        return Region(target: target, neighbours: neighbours, principalUnits: principal, states: states,
                      scores: top.map { Double($0.score) / Double(n) }, candidates: candidates.cardinality,
                      members: members)
    }

    /// Rows equal to `states` on every unit of `units` (all rows when `units` is empty).
    static func members(_ m: ConfigurationMatrix, units: [Int], states: [Bool]) -> [Int] {
        let probes = zip(units, states).map { (word: $0.0 >> 6, mask: UInt64(1) << UInt64($0.0 & 63), on: $0.1) }
        let perRow = m.wordsPerRow
        return m.words.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            var out: [Int] = []
            for r in 0..<m.rows {
                let row = base + r * perRow
                if probes.allSatisfy({ (row[$0.word] & $0.mask != 0) == $0.on }) { out.append(r) }
            }
            return out
        }
    }

    /// Share of the most common label among `members` (NaN for no members): how well a region
    /// matches one class, the paper's coherence measure with class labels.
    public static func purity(_ labels: [Int], members: [Int]) -> Double {
        guard !members.isEmpty else { return .nan }
        var counts: [Int: Int] = [:]
        for i in members { counts[labels[i], default: 0] += 1 }
        return Double(counts.values.max()!) / Double(members.count)
    }
}
