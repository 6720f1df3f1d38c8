import Testing
import NNRuntime
import TestSupport

/// Forward values of tensor creation and the shape/reduction ops against hand-written answers.
@Suite struct TensorTests {
    let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])

    @Test func broadcastingArithmetic() {
        let b = Tensor(shape: [3], scalars: [10, 20, 30])
        #expect((m + b).scalars == [11, 22, 33, 14, 25, 36])
        #expect((m * Tensor(shape: [2, 1], scalars: [2, -1])).scalars == [2, 4, 6, -4, -5, -6])
        #expect((Tensor(shape: [2, 1, 1], scalars: [1, 2]) - Tensor(shape: [1, 2], scalars: [1, 3])).shape == [2, 1, 2])
        #expect((1 - m / 2).scalars == [0.5, 0, -0.5, -1, -1.5, -2])
        #expect((2 / Tensor([4, 8])).scalars == [0.5, 0.25])
        #expect(Tensor.maximum(m, Tensor(3.5)).scalars == [3.5, 3.5, 3.5, 4, 5, 6])
    }

    @Test func reductions() {
        #expect(m.sum().scalars == [21])
        #expect(m.sum(axes: [0]).scalars == [5, 7, 9])
        #expect(m.sum(axes: [1], keepDims: true).shape == [2, 1])
        #expect(m.mean(axes: [-1]).scalars == [2, 5])
        #expect(m.max(axis: 1).scalars == [3, 6])
        #expect(m.argmax(axis: 0) == [1, 1, 1])
        #expect(m.variance(axes: [1]).scalars == [1, 1])
        #expect(m.variance(axes: [1], unbiased: false).scalars.map { ($0 * 3).rounded() } == [2, 2])
    }

    /// Products large enough to be split across the cores (by rows when m ≥ n, else by columns),
    /// with every transpose, against a plain triple loop; and the gradients, which use the split too.
    @Test(arguments: [(300, 70, 64), (40, 80, 400)])
    func largeProductsSplitAcrossCoresMatchTheLoop(_ m: Int, _ k: Int, _ n: Int) {
        var gen = SeededGenerator(seed: 9)
        let a = Tensor.randn([m, k], using: &gen), b = Tensor.randn([k, n], using: &gen)
        func reference(_ x: Tensor, _ y: Tensor) -> [Float] {
            let (xs, ys) = (x.scalars, y.scalars)
            let (rows, inner, cols) = (x.shape[0], x.shape[1], y.shape[1])
            return (0..<(rows * cols)).map { index in
                let (i, j) = (index / cols, index % cols)
                return Float((0..<inner).reduce(0.0) { $0 + Double(xs[i * inner + $1]) * Double(ys[$1 * cols + j]) })
            }
        }
        #expect(zip(matmul(a, b).scalars, reference(a, b)).allSatisfy { Swift.abs($0 - $1) < 1e-3 })
        let tape = GradientTape()
        let (xa, xb) = (tape.watch(a), tape.watch(b))
        let loss = tape.record { matmul(xa, xb).sum() }
        let grads = tape.gradient(of: loss)
        // d/dA Σ AB = 1·Bᵀ: row i of dA is the row sums of B, the same for every i.
        let rowSums = (0..<k).map { r in (0..<n).reduce(Float(0)) { $0 + b.scalars[r * n + $1] } }
        #expect(zip(grads[xa]!.scalars, (0..<(m * k)).map { rowSums[$0 % k] }).allSatisfy { Swift.abs($0 - $1) < 1e-3 })
        // d/dB Σ AB = Aᵀ·1 (a transposed-A product): row r of dB is column r's sum of A.
        let columnSums = (0..<k).map { r in (0..<m).reduce(Float(0)) { $0 + a.scalars[$1 * k + r] } }
        #expect(zip(grads[xb]!.scalars, (0..<(k * n)).map { columnSums[$0 / n] }).allSatisfy { Swift.abs($0 - $1) < 1e-3 })
    }

    @Test func indexSelectPicksAndAccumulates() {
        // m = [[1, 2, 3], [4, 5, 6]]: columns 2, 0, 2.
        let picked = m.indexSelect(axis: 1, indices: [2, 0, 2])
        #expect(picked.shape == [2, 3] && picked.scalars == [3, 1, 3, 6, 4, 6])
        #expect(m.indexSelect(axis: 0, indices: [1]).scalars == [4, 5, 6])
        let tape = GradientTape()
        let x = tape.watch(m)
        let y = tape.record { (x.indexSelect(axis: 1, indices: [2, 0, 2]) * Tensor(shape: [1, 3], scalars: [1, 10, 100])).sum() }
        // Column 2 is picked twice (weights 1 and 100), column 0 once (10), column 1 never.
        #expect(tape.gradient(of: y)[x]!.scalars == [10, 0, 101, 10, 0, 101])
    }

    @Test func shapeOps() {
        #expect(m.reshaped([3, -1]).shape == [3, 2])
        #expect(m.transposed().scalars == [1, 4, 2, 5, 3, 6])
        let t = Tensor.arange(0, 24).reshaped([2, 3, 4])
        #expect(t.permuted([2, 0, 1]).shape == [4, 2, 3])
        #expect(t.permuted([2, 0, 1])[index: 1, 1, 2] == t[index: 1, 2, 1])
        #expect(m.slice(axis: 1, start: 1).scalars == [2, 3, 5, 6])
        #expect(Tensor.arange(0, 10).slice(axis: 0, start: 1, end: 8, step: 3).scalars == [1, 4, 7])
        #expect(concat([m, m * 10], axis: 1).scalars == [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60])
        #expect(concat([m, m], axis: 0).shape == [4, 3])
        #expect(Tensor([1, 2]).padded([(1, 2)], value: 9).scalars == [9, 1, 2, 9, 9])
        #expect(m.padded([(0, 0), (1, 0)]).scalars == [0, 0, 0, 1, 2, 3, 4, 5, 6])
        #expect(m.padded([(-1, 0)]).scalars == [2, 3, 5, 6])
        #expect(m.flattened(startAxis: 0).shape == [6])
        #expect(m.unsqueezed(axis: 0).squeezed().shape == [2, 3])
        #expect(m[1].scalars == [4, 5, 6])
        #expect(m[1, 2].scalar == 6)
        #expect(Tensor(shape: [3, 1], scalars: [1, 2, 3]).broadcast(to: [2, 3, 2]).scalars
            == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
    }

    @Test func copyOnWriteKeepsValuesIndependent() {
        var a = m
        let b = a.reshaped([6])
        a[index: 0, 0] = 100
        #expect(b.scalars[0] == 1)
        #expect(a.scalars[0] == 100)
        #expect(m.scalars[0] == 1)
    }

    @Test func seededRandomIsReproducibleAndWellDistributed() {
        var g1 = SeededGenerator(seed: 42), g2 = SeededGenerator(seed: 42), g3 = SeededGenerator(seed: 43)
        let a = Tensor.randn([4000], using: &g1)
        #expect(a.scalars == Tensor.randn([4000], using: &g2).scalars)
        #expect(a.scalars != Tensor.randn([4000], using: &g3).scalars)
        #expect(Swift.abs(a.mean().scalar) < 0.05)
        #expect(Swift.abs(a.variance().scalar - 1) < 0.08)
        let u = Tensor.uniform([4000], low: -2, high: 3, using: &g1).scalars
        #expect(u.allSatisfy { $0 >= -2 && $0 < 3 })
        #expect(Swift.abs(u.reduce(0, +) / 4000 - 0.5) < 0.1)
    }

    @Test func activationsAndSoftmaxValues() {
        let x = Tensor([-2, 0.5, 7])
        #expect(relu(x).scalars == [0, 0.5, 7])
        #expect(relu6(x).scalars == [0, 0.5, 6])
        #expect(leakyReLU(x, negativeSlope: 0.1).scalars == [-0.2, 0.5, 7])
        #expect(Compare.close(sigmoid(Tensor([0, 100, -100])), Tensor([0.5, 1, 0])))
        let p = softmax(Tensor(shape: [1, 3], scalars: [1000, 1000, 1000]), axis: 1)
        #expect(Compare.close(p, Tensor(shape: [1, 3], scalars: [1, 1, 1].map { $0 / 3 })), "stable for large logits")
        let ls = logSoftmax(Tensor(shape: [1, 2], scalars: [0, 0]), axis: 1)
        #expect(Compare.close(ls, Tensor(shape: [1, 2], scalars: [-0.6931472, -0.6931472])))
        // Cross-entropy of uniform logits is log C.
        #expect(Swift.abs(crossEntropy(.zeros([2, 4]), labels: [1, 3]).scalar - 1.3862944) < 1e-6)
    }
}
