import NNRuntime

/// Statistics shared by the interpretability methods: outlier detectors (``Outliers``), ROC-AUC with
/// ties (``ROC``), the Mann–Whitney U test (``MannWhitney``) and 2-D embeddings (``Embedding``).
///
/// Everything works on plain `[[Double]]` row-major matrices and `[Double]` vectors in double
/// precision: the inputs are small (k ≤ a few thousand neurons) and the results are compared with
/// scikit-learn, pyod, scipy and umap-learn, which compute in float64 too.
public enum Analysis {
    /// The version of the analysis routines, recorded in run configs.
    public static let version = "0.1.0"
}

/// A one-line description of bad input to an analysis routine: what was wrong and what was expected.
///
/// The throwing entry points (``Outliers/detect(_:distances:features:fraction:seed:)``, ``ROC``) report
/// these instead of trapping; the non-throwing score functions return NaN-filled results for input
/// that ``AnalysisError/checkDistances(_:minimumPoints:)`` or ``AnalysisError/checkFeatures(_:minimumPoints:)``
/// would reject, so callers that want a message call those first.
public struct AnalysisError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The message, one line.
    public let message: String

    public init(_ message: String) {
        self.message = message.replacingOccurrences(of: "\n", with: " ")
    }

    public var description: String { message }

    /// Checks that `distances` is a square, finite, non-negative matrix of at least `minimumPoints`
    /// rows, as scikit-learn's `metric="precomputed"` estimators require (they refuse negative
    /// entries with a `ValueError`).
    public static func checkDistances(_ distances: [[Double]], minimumPoints: Int = 3) throws {
        let n = distances.count
        guard n >= minimumPoints else {
            throw AnalysisError("distance matrix has \(n) point\(n == 1 ? "" : "s"); expected at least \(minimumPoints)")
        }
        for (i, row) in distances.enumerated() {
            guard row.count == n else {
                throw AnalysisError("distance matrix is not square: row \(i) has \(row.count) entries; expected \(n)")
            }
            for (j, value) in row.enumerated() {
                guard value.isFinite else {
                    throw AnalysisError("distance matrix has a non-finite entry \(value) at [\(i)][\(j)]; expected finite distances")
                }
                guard value >= 0 else {
                    throw AnalysisError("distance matrix has a negative entry \(value) at [\(i)][\(j)]; expected distances ≥ 0")
                }
            }
        }
    }

    /// Checks that `features` is a rectangular, finite matrix with at least `minimumPoints` rows and
    /// at least one column.
    public static func checkFeatures(_ features: [[Double]], minimumPoints: Int = 3) throws {
        let n = features.count
        guard n >= minimumPoints else {
            throw AnalysisError("feature matrix has \(n) row\(n == 1 ? "" : "s"); expected at least \(minimumPoints) points")
        }
        let width = features[0].count
        guard width > 0 else { throw AnalysisError("feature matrix has no columns; expected at least one feature") }
        for (i, row) in features.enumerated() {
            guard row.count == width else {
                throw AnalysisError("feature matrix is ragged: row \(i) has \(row.count) columns; expected \(width)")
            }
            if let j = row.firstIndex(where: { !$0.isFinite }) {
                throw AnalysisError("feature matrix has a non-finite entry \(row[j]) at [\(i)][\(j)]; expected finite values")
            }
        }
    }

    /// Checks one score per label, all finite, and both classes present (an AUC needs positives and
    /// negatives; scikit-learn raises "Only one class present in y_true" in the same case).
    public static func checkScores(_ scores: [Double], labels: [Bool]) throws {
        guard scores.count == labels.count else {
            throw AnalysisError("\(scores.count) scores but \(labels.count) labels; expected one label per score")
        }
        if let i = scores.firstIndex(where: { !$0.isFinite }) {
            throw AnalysisError("score \(i) is \(scores[i]); expected finite scores")
        }
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard positives > 0, positives < labels.count else {
            throw AnalysisError("labels hold only \(positives == 0 ? "negatives" : "positives") (\(labels.count) in all); expected both classes")
        }
    }

    /// True when `checkDistances` would accept the matrix (used by the non-throwing functions).
    static func validDistances(_ distances: [[Double]], minimumPoints: Int) -> Bool {
        (try? checkDistances(distances, minimumPoints: minimumPoints)) != nil
    }

    /// True when `checkFeatures` would accept the matrix (used by the non-throwing functions).
    static func validFeatures(_ features: [[Double]], minimumPoints: Int) -> Bool {
        (try? checkFeatures(features, minimumPoints: minimumPoints)) != nil
    }
}
