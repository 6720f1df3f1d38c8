import Foundation
import NNRuntime
import Testing
@testable import RDR

/// The feature-space baselines: streamed in uneven batches they equal a one-shot plain computation
/// exactly, and `nearest` orders by distance with ties by index.
@Suite struct FeatureNeighboursTests {
    func plainEuclidean(_ a: [Float], _ b: [Float]) -> Double {
        var s = 0.0
        for (x, y) in zip(a, b) { s += (Double(x) - Double(y)) * (Double(x) - Double(y)) }
        return s.squareRoot()
    }

    func plainCosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
        let den = na.squareRoot() * nb.squareRoot()
        return den > 0 ? min(2, max(0, 1 - dot / den)) : 1
    }

    @Test func streamedBatchesEqualOneShot() {
        var rng = SeededGenerator(seed: 21)
        let (n, shape) = (23, [4, 3, 2])
        let dim = shape.reduce(1, *)
        var rows = (0..<n).map { _ in (0..<dim).map { _ in rng.nextNormal() } }
        rows[5] = [Float](repeating: 0, count: dim)               // a zero feature: cosine distance 1
        let targets = [rows[3], [Float](repeating: 0, count: dim), rows[3].map { -2 * $0 }, rows[9]]
        var streamed = FeatureNeighbours(targets: targets)
        var start = 0
        for size in [5, 1, 10, 7] {
            streamed.add(Tensor(shape: [size] + shape, scalars: rows[start..<start + size].flatMap { $0 }))
            start += size
        }
        #expect(streamed.rows == n)
        // One shot, through the threaded path (b · dim · targets ≥ 2¹⁶ needs many rows: repeat them).
        var oneShot = FeatureNeighbours(targets: targets)
        oneShot.add(Tensor(shape: [n, dim], scalars: rows.flatMap { $0 }))
        var big = FeatureNeighbours(targets: targets)
        let copies = 700
        big.add(Tensor(shape: [n * copies, dim], scalars: (0..<copies).flatMap { _ in rows.flatMap { $0 } }))
        for (k, t) in targets.enumerated() {
            let euclid = rows.map { plainEuclidean(t, $0) }, cosine = rows.map { plainCosine(t, $0) }
            #expect(streamed.euclidean[k] == euclid && oneShot.euclidean[k] == euclid)
            #expect(streamed.cosine[k] == cosine && oneShot.cosine[k] == cosine)
            #expect(Array(big.euclidean[k].suffix(n)) == euclid && Array(big.cosine[k].prefix(n)) == cosine)
        }
        #expect(streamed.euclidean[0][3] == 0 && streamed.cosine[0][3] == 0)
        #expect(streamed.cosine[1].allSatisfy { $0 == 1 } && streamed.cosine[0][5] == 1)
        #expect(abs(streamed.cosine[2][3] - 2) < 1e-12)              // opposite direction
        #expect(FeatureNeighbours.nearest(streamed.euclidean[3], count: 1) == [9])
    }

    @Test func nearestOrdersByDistanceThenIndex() {
        let d: [Double] = [0.5, 0.1, .nan, 0.1, 0.0, 0.5, 2]
        #expect(FeatureNeighbours.nearest(d, count: 4) == [4, 1, 3, 0])
        #expect(FeatureNeighbours.nearest(d, count: 10) == [4, 1, 3, 0, 5, 6, 2])
        #expect(FeatureNeighbours.nearest(d, count: 0).isEmpty)
        #expect(FeatureNeighbours.nearest([], count: 3).isEmpty)
    }
}
