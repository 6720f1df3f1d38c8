import Testing
import NNRuntime
import TestSupport

/// Edge cases of the pooling and resizing ops that `PoolingTests` and the PyTorch fixtures leave
/// out: ceil-mode windows that reach into (or past) the right padding, where PyTorch's two rules —
/// "the last window starts inside the input or the left padding" and "the divisor is clipped to the
/// padded input" — decide the result, and a full 2×2 → 4×4 bilinear upsampling in both modes.
@Suite struct PoolTests {
    /// 0…24 as a 5×5 plane.
    let grid5 = Tensor.arange(0, 25).reshaped([1, 1, 5, 5])

    /// The 2×2 stride-2 path: ties go to the first position in row-major order, a NaN wins (and the
    /// first NaN keeps the gradient), as PyTorch's `max_pool2d` decides.
    @Test func twoByTwoTiesAndNaN() {
        let x = Tensor(shape: [1, 1, 2, 4], scalars: [1, 3, 2, .nan, 3, 0, 5, .nan])
        let tape = GradientTape()
        let xs = tape.watch(x)
        let y = tape.record { maxPool2d(xs, kernelSize: (2, 2)) }
        #expect(y.scalars[0] == 3 && y.scalars[1].isNaN)
        // The first NaN of the second window (index 3) is the winner.
        let withNaN = tape.record { (y * Tensor(shape: [1, 1, 1, 2], scalars: [0, 1])).sum() }
        #expect(tape.gradient(of: withNaN)[xs]!.scalars.enumerated().filter { $0.element != 0 }.map(\.offset) == [3])
        let tape2 = GradientTape()
        let x2 = tape2.watch(Tensor(shape: [1, 1, 2, 4], scalars: [1, 3, 2, 7, 3, 0, 5, 7]))
        let y2 = tape2.record { maxPool2d(x2, kernelSize: (2, 2)).sum() }
        #expect(tape2.gradient(of: y2)[x2]!.scalars == [0, 1, 0, 1, 0, 0, 0, 0])
        let tape3 = GradientTape()
        let x3 = tape3.watch(x)
        let y3 = tape3.record { (maxPool2d(x3, kernelSize: (2, 2)) * Tensor(shape: [1, 1, 1, 2], scalars: [1, 0])).sum() }
        #expect(tape3.gradient(of: y3)[x3]!.scalars == [0, 1, 0, 0, 0, 0, 0, 0])
    }

    /// Rows wide enough for the eight-window vector loop (19 windows: two vectors and a tail), odd
    /// input sizes, frequent ties and NaNs: values and winners as the textbook rule decides them.
    @Test func twoByTwoVectorLoopMatchesTheFirstMaximumRule() {
        var gen = SeededGenerator(seed: 9)
        var values = Tensor.randn([2, 3, 7, 39], using: &gen).scalars.map { ($0 * 2).rounded() }
        for i in stride(from: 5, to: values.count, by: 37) { values[i] = .nan }
        let x = Tensor(shape: [2, 3, 7, 39], scalars: values)
        let tape = GradientTape()
        let xs = tape.watch(x)
        let y = tape.record { maxPool2d(xs, kernelSize: (2, 2)) }
        #expect(y.shape == [2, 3, 3, 19])
        let dx = tape.gradient(of: y, seed: .ones(y.shape))[xs]!.scalars
        var expectedWinners = Set<Int>()
        for plane in 0..<6 { for oy in 0..<3 { for ox in 0..<19 {
            var best = Float.nan, winner = -1
            for (dy, dxo) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let index = plane * 7 * 39 + (2 * oy + dy) * 39 + 2 * ox + dxo
                let v = values[index]
                if winner < 0 || (!best.isNaN && (v > best || v.isNaN)) { best = v; winner = index }
            }
            let got = y[index: plane / 3, plane % 3, oy, ox]
            #expect(got == best || (got.isNaN && best.isNaN), "window \(plane) \(oy) \(ox)")
            expectedWinners.insert(winner)
        } } }
        #expect(Set(dx.indices.filter { dx[$0] != 0 }) == expectedWinners)
        #expect(dx.allSatisfy { $0 == 0 || $0 == 1 })
    }

    /// Without a gradient, max pooling takes its select-only path: the same values, NaN included.
    @Test func valuesWithAndWithoutGradientAgree() {
        var gen = SeededGenerator(seed: 3)
        var values = Tensor.randn([2, 3, 9, 8], using: &gen).scalars
        values[5] = .nan
        values[77] = -.infinity
        let x = Tensor(shape: [2, 3, 9, 8], scalars: values)
        for (k, s, p, ceil) in [((3, 3), (2, 2), (1, 1), false), ((2, 2), (2, 2), (0, 0), false), ((3, 2), (2, 1), (1, 0), true)] {
            let plain = withoutGradients { maxPool2d(x, kernelSize: k, stride: s, padding: p, ceilMode: ceil) }
            let tape = GradientTape()
            let traced = tape.record { maxPool2d(tape.watch(x), kernelSize: k, stride: s, padding: p, ceilMode: ceil) }
            #expect(plain.shape == traced.shape)
            #expect(zip(plain.scalars, traced.scalars).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
            #expect(plain.scalars.contains { $0.isNaN })
        }
    }

    @Test func ceilModeDropsAWindowThatWouldStartInTheRightPadding() {
        // k3 s3 p1 on 5: ceil((5 + 2 − 3)/3) + 1 = 3, but window 2 would start at 3·2 − 1 = 5, in
        // the right padding, so PyTorch keeps 2. Windows cover rows/cols −1…1 and 2…4.
        let y = maxPool2d(grid5, kernelSize: (3, 3), stride: (3, 3), padding: (1, 1), ceilMode: true)
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [6, 9, 21, 24])
        // Averages with the padding counted (3×3 = 9 each): 0+1+5+6, 2+3+4+7+8+9, 10+11+15+16+20+21,
        // and the full 3×3 block 12…24.
        let a = avgPool2d(grid5, kernelSize: (3, 3), stride: (3, 3), padding: (1, 1), ceilMode: true)
        #expect(Compare.close(a, Tensor(shape: [1, 1, 2, 2], scalars: [12.0 / 9, 33.0 / 9, 93.0 / 9, 18])))
    }

    @Test func ceilModeDivisorIsClippedToThePaddedInput() {
        // One row 0…5, kernel (1, 3), stride (1, 2), padding (0, 1), ceil: 4 windows over cols
        // −1…1, 1…3, 3…5 and 5…7. The last reaches one column past the padded input (which ends at
        // 6), so with padding counted its divisor is 2 (cols 5, 6), without it 1 (col 5).
        let x = Tensor.arange(0, 6).reshaped([1, 1, 1, 6])
        let inc = avgPool2d(x, kernelSize: (1, 3), stride: (1, 2), padding: (0, 1), ceilMode: true)
        #expect(Compare.close(inc, Tensor(shape: [1, 1, 1, 4], scalars: [1.0 / 3, 2, 4, 2.5])))
        let exc = avgPool2d(x, kernelSize: (1, 3), stride: (1, 2), padding: (0, 1), ceilMode: true,
                            countIncludePad: false)
        #expect(Compare.close(exc, Tensor(shape: [1, 1, 1, 4], scalars: [0.5, 2, 4, 5])))
        // Max pooling over the same windows: padding never wins.
        let m = maxPool2d(x, kernelSize: (1, 3), stride: (1, 2), padding: (0, 1), ceilMode: true)
        #expect(m.scalars == [1, 3, 5, 5])
    }

    @Test func bilinearTwoByTwoToFourByFour() {
        // x = [[0, 1], [2, 3]] is linear (2·row + col), so bilinear output = 2·src_row + src_col.
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 2, 3])
        // Half-pixel: src = (i + 0.5)/2 − 0.5 = −0.25→0 (clamped), 0.25, 0.75, 1.25 (→ last pixel).
        let half = resizeBilinear(x, size: (4, 4), alignCorners: false)
        #expect(Compare.close(half, Tensor(shape: [1, 1, 4, 4], scalars: [
            0.0, 0.25, 0.75, 1.0,
            0.5, 0.75, 1.25, 1.5,
            1.5, 1.75, 2.25, 2.5,
            2.0, 2.25, 2.75, 3.0,
        ])))
        // Corners aligned: src = i/3 = 0, 1/3, 2/3, 1.
        let corners = resizeBilinear(x, size: (4, 4), alignCorners: true)
        let t: Float = 1.0 / 3
        #expect(Compare.close(corners, Tensor(shape: [1, 1, 4, 4], scalars: [
            0, t, 2 * t, 1,
            2 * t, 3 * t, 4 * t, 5 * t,
            4 * t, 5 * t, 6 * t, 7 * t,
            2, 2 + t, 2 + 2 * t, 3,
        ])))
    }

    @Test(arguments: [false, true])
    func bilinearGradientOfTheSumSpreadsEvenly(_ alignCorners: Bool) {
        // Along one axis each source pixel's weights over the 4 outputs sum to 2 in both modes
        // (1 + ¾ + ¼ + 0 and 1 + ⅔ + ⅓ + 0), so ∂Σy/∂x = 2 · 2 = 4 everywhere.
        let tape = GradientTape()
        let x = tape.watch(Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 2, 3]))
        let y = tape.record { resizeBilinear(x, size: (4, 4), alignCorners: alignCorners).sum() }
        let g = tape.gradient(of: y)[x]!
        #expect(Compare.close(g, Tensor(repeating: 4, shape: [1, 1, 2, 2])), "\(g)")
    }

    @Test(arguments: [0, 1, 2, 3])
    func finiteDifferencesAtThePaddingEdges(_ which: Int) {
        var gen = SeededGenerator(seed: UInt64(40 + which))
        // Distinct values 0.05 apart: no max-pool ties within the finite-difference step.
        var values = (0..<100).map { Float($0) * 0.05 - 2.5 }
        values.shuffle(using: &gen)
        let x = Tensor(shape: [2, 2, 5, 5], scalars: values)
        let f: ([Tensor]) -> Tensor = switch which {
        case 0: { maxPool2d($0[0], kernelSize: (3, 3), stride: (3, 3), padding: (1, 1), ceilMode: true) }
        case 1: { avgPool2d($0[0], kernelSize: (3, 3), stride: (3, 3), padding: (1, 1), ceilMode: true) }
        case 2: { avgPool2d($0[0], kernelSize: (1, 3), stride: (1, 2), padding: (0, 1), ceilMode: true) }
        default: { resizeBilinear($0[0], size: (2, 3), alignCorners: false) }
        }
        let report = GradCheck.check([x], kinks: [], f)
        #expect(report.maxRelativeError < 1e-2, "case \(which): \(report)")
    }
}
