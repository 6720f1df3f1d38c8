import Foundation
import Testing
@testable import Analysis

/// Outlier scores against scikit-learn's LocalOutlierFactor, pyod's PCA and KNN (fixtures from
/// Tests/Reference/make_analysis_fixtures.py), the isolation forest on planted outliers, and
/// `detect`'s thresholds and one-line errors.
@Suite struct OutlierTests {
    let fixture: AnalysisFixtures.Outliers

    init() throws { fixture = try AnalysisFixtures.load("outliers.json") }

    func indices(_ flags: [Bool]) -> [Int] { flags.indices.filter { flags[$0] } }

    // MARK: - Parity with scikit-learn and pyod

    @Test(arguments: ["blobs", "ea"])
    func localOutlierFactorMatchesScikitLearn(_ name: String) throws {
        let c = try #require(fixture.cases[name])
        let lof20 = Outliers.localOutlierFactor(distances: c.distances)
        let lof5 = Outliers.localOutlierFactor(distances: c.distances, neighbours: 5)
        #expect(worstRelativeError(lof20, c.lof20) <= 1e-4, "\(name) n_neighbors=20")
        #expect(worstRelativeError(lof5, c.lof5) <= 1e-4, "\(name) n_neighbors=5")
        // Pure arithmetic on the same doubles: in practice equal to rounding.
        #expect(worstRelativeError(lof20, c.lof20) <= 1e-10 && worstRelativeError(lof5, c.lof5) <= 1e-10)
    }

    @Test(arguments: ["blobs", "ea"])
    func pcaMatchesPyod(_ name: String) throws {
        let c = try #require(fixture.cases[name])
        let scores = Outliers.pcaScores(features: c.features)
        #expect(worstRelativeError(scores, c.pca) <= 1e-4, "\(name)")
        let result = try Outliers.detect(.pca, distances: [], features: c.features, fraction: fixture.fraction)
        #expect(abs(result.threshold - c.pcaThreshold) <= 1e-4 * abs(c.pcaThreshold))
        #expect(indices(result.isOutlier) == c.pcaOutliers)
    }

    @Test(arguments: ["blobs", "ea"])
    func knnEqualsPyodExactly(_ name: String) throws {
        let c = try #require(fixture.cases[name])
        #expect(Outliers.knnScores(distances: c.distances) == c.knn)
        let result = try Outliers.detect(.knn, distances: c.distances, features: [], fraction: fixture.fraction)
        #expect(indices(result.isOutlier) == c.knnOutliers)
    }

    @Test(arguments: ["blobs", "ea"])
    func detectFlagsTheSameSetAsScikitLearnContamination(_ name: String) throws {
        let c = try #require(fixture.cases[name])
        let result = try Outliers.detect(.lof, distances: c.distances, features: c.features, fraction: fixture.fraction)
        #expect(indices(result.isOutlier) == c.lof20Outliers)
        #expect(result.scores == Outliers.localOutlierFactor(distances: c.distances))
        // 48 points, 5 %: the 95th percentile sits between the 45th and 46th smallest → 3 flagged.
        #expect(result.isOutlier.filter { $0 }.count == 3)
    }

    // MARK: - Isolation forest

    @Test func isolationForestRanksPlantedOutliersFirst() throws {
        let blobs = try #require(fixture.cases["blobs"])
        let scores = Outliers.isolationForest(features: blobs.features)
        let top = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(fixture.planted.count)
        #expect(Set(top) == Set(fixture.planted))
        #expect(scores.allSatisfy { $0 > 0 && $0 <= 1 })
        // scikit-learn's forest (another random stream) agrees on the planted points.
        let reference = blobs.iforestSklearn
        let referenceTop = reference.indices.sorted { reference[$0] > reference[$1] }.prefix(fixture.planted.count)
        #expect(Set(referenceTop) == Set(fixture.planted))
        // The odd neurons of the EA data set.
        let ea = try #require(fixture.cases["ea"])
        let eaScores = Outliers.isolationForest(features: ea.features, seed: 3)
        #expect(Set(eaScores.indices.sorted { eaScores[$0] > eaScores[$1] }.prefix(3)) == [45, 46, 47])
    }

    @Test func isolationForestIsDeterministicPerSeed() throws {
        let features = try #require(fixture.cases["blobs"]).features
        let a = Outliers.isolationForest(features: features, seed: 42)
        #expect(a == Outliers.isolationForest(features: features, seed: 42))
        #expect(a != Outliers.isolationForest(features: features, seed: 43))
        let viaDetect = try Outliers.detect(.iforest, distances: [], features: features, seed: 42)
        #expect(viaDetect.scores == a)
    }

    @Test func isolationForestOnConstantDataScoresOneHalf() {
        // Every node is constant: each tree is a single leaf of ψ points, so E[h] = c(ψ) and s = ½.
        let scores = Outliers.isolationForest(features: [[Double]](repeating: [1, 2], count: 10))
        #expect(scores.allSatisfy { abs($0 - 0.5) < 1e-12 })
    }

    // MARK: - Thresholds

    @Test func percentileIsNumpyLinear() {
        #expect(Outliers.percentile([4, 1, 3, 2], 50) == 2.5)
        #expect(Outliers.percentile([1, 2, 3, 4, 5], 100) == 5)
        #expect(Outliers.percentile([1, 2, 3, 4, 5], 0) == 1)
        #expect(Outliers.percentile([0, 10], 95) == 9.5)
        // 21 values: (21 − 1)·0.95 = 19 exactly, so the threshold is the 20th smallest value and only
        // the largest point lies strictly above it.
        let values = (0..<21).map { Double($0 * $0) }
        #expect(Outliers.percentile(values, 95) == 361)
    }

    @Test func detectFlagsTheExpectedCount() throws {
        // 28 points on a line and two far away: (30 − 1)·0.95 = 27.55, so the threshold lies between
        // the 28th and 29th smallest scores and exactly two points are flagged (scikit-learn's LOF and
        // pyod's PCA and KNN flag the same two).
        let line = (0..<28).map { [Double($0)] } + [[100.0], [-80.0]]
        let distances = euclideanDistances(line)
        for detector in OutlierDetector.allCases {
            let result = try Outliers.detect(detector, distances: distances, features: line, fraction: 0.05)
            #expect(indices(result.isOutlier) == [28, 29], "\(detector)")
            #expect(result.scores.count == 30 && result.scores.allSatisfy { $0.isFinite }, "\(detector)")
        }
    }

    // MARK: - Bad input

    func expectError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        let error = #expect(throws: AnalysisError.self, sourceLocation: sourceLocation) { try body() }
        guard let text = error.map({ "\($0)" }) else { return }
        #expect(text.contains(fragment) && !text.contains("\n"), "\(text)", sourceLocation: sourceLocation)
    }

    @Test func detectErrorsAreOneLine() {
        let good = euclideanDistances((0..<6).map { [Double($0)] })
        expectError("outlier fraction 0.0 is outside (0, 0.5]") { _ = try Outliers.detect(.lof, distances: good, features: [], fraction: 0) }
        expectError("outlier fraction 0.6 is outside (0, 0.5]") { _ = try Outliers.detect(.lof, distances: good, features: [], fraction: 0.6) }
        expectError("outside (0, 0.5]") { _ = try Outliers.detect(.knn, distances: good, features: [], fraction: .nan) }
        expectError("not square: row 1 has 2 entries; expected 3") {
            _ = try Outliers.detect(.lof, distances: [[0, 1, 2], [1, 0], [2, 1, 0]], features: [])
        }
        expectError("distance matrix has 2 points; expected at least 3") {
            _ = try Outliers.detect(.knn, distances: [[0, 1], [1, 0]], features: [])
        }
        expectError("non-finite entry nan at [0][1]") {
            _ = try Outliers.detect(.lof, distances: [[0, .nan, 1], [1, 0, 1], [1, 1, 0]], features: [])
        }
        expectError("negative entry -1.0 at [2][0]") {
            _ = try Outliers.detect(.lof, distances: [[0, 1, 1], [1, 0, 1], [-1, 1, 0]], features: [])
        }
        expectError("feature matrix is ragged: row 2 has 1 columns; expected 2") {
            _ = try Outliers.detect(.pca, distances: [], features: [[0, 1], [1, 2], [3]])
        }
        expectError("feature matrix has 0 rows") { _ = try Outliers.detect(.iforest, distances: good, features: []) }
        expectError("non-finite entry inf at [1][0]") {
            _ = try Outliers.detect(.iforest, distances: [], features: [[0], [.infinity], [1]])
        }
    }

    @Test func scoreFunctionsReturnNaNForBadInputInsteadOfTrapping() {
        #expect(Outliers.localOutlierFactor(distances: [[0, 1], [1]]).allSatisfy { $0.isNaN })
        #expect(Outliers.knnScores(distances: [[0, .nan], [1, 0]]).count == 2)
        #expect(Outliers.pcaScores(features: []).isEmpty)
        #expect(Outliers.isolationForest(features: [[1], [2, 3]]).allSatisfy { $0.isNaN })
        #expect(Outliers.isolationForest(features: [[1], [2]], trees: 0).allSatisfy { $0.isNaN })
    }

    @Test func duplicatesKeepLocalOutlierFactorFinite() {
        // More duplicates than neighbours: scikit-learn's 1e-10 guard keeps lrd finite and LOF ≈ 1.
        let points: [[Double]] = [[Double]](repeating: [0], count: 6) + [[1], [2], [10]]
        let lof = Outliers.localOutlierFactor(distances: euclideanDistances(points), neighbours: 3)
        #expect(lof.allSatisfy { $0.isFinite })
        #expect(abs(lof[0] - 1) < 1e-9 && lof[8] > lof[7])
    }
}
