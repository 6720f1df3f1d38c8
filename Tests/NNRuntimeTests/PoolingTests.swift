import Testing
import NNRuntime
import TestSupport

@Suite struct PoolingTests {
    /// 0…15 laid out as a 4×4 plane.
    let grid = Tensor.arange(0, 16).reshaped([1, 1, 4, 4])

    @Test func maxAndAveragePoolByHand() {
        // Windows 2×2 stride 2: max [[5, 7], [13, 15]], mean [[2.5, 4.5], [10.5, 12.5]].
        #expect(maxPool2d(grid, kernelSize: (2, 2)).scalars == [5, 7, 13, 15])
        #expect(avgPool2d(grid, kernelSize: (2, 2)).scalars == [2.5, 4.5, 10.5, 12.5])
        // ResNet's pool, kernel 3 stride 2 padding 1: output 2×2; window (0,0) covers rows/cols −1…1.
        #expect(maxPool2d(grid, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)).scalars == [5, 7, 13, 15])
        // Averages with padding counted: window (0,0) sums 0+1+4+5 = 10 over 9 → 10/9.
        let inc = avgPool2d(grid, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))
        #expect(Swift.abs(inc.scalars[0] - 10.0 / 9) < 1e-6)
        // Without the padding: 10/4; window (0,1) covers cols 1…3 of rows 0…1: (1+2+3+5+6+7)/6 = 4.
        let exc = avgPool2d(grid, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false)
        #expect(exc.scalars[0] == 2.5 && exc.scalars[1] == 4)
    }

    @Test func ceilModeAddsThePartialWindow() {
        let x = Tensor.arange(0, 25).reshaped([1, 1, 5, 5])
        // floor: (5 − 2)/2 + 1 = 2; ceil: 3, the last window covering only row/col 4.
        #expect(maxPool2d(x, kernelSize: (2, 2), ceilMode: false).shape == [1, 1, 2, 2])
        let y = maxPool2d(x, kernelSize: (2, 2), ceilMode: true)
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.scalars == [6, 8, 9, 16, 18, 19, 21, 23, 24])
        // The clipped window averages over what it covers: row 4, cols 4 → 24 alone.
        #expect(avgPool2d(x, kernelSize: (2, 2), ceilMode: true).scalars.last == 24)
    }

    @Test func adaptiveBins() {
        // 5 → 3 bins: [0,2), [1,4), [3,5).
        let x = Tensor.arange(0, 5).reshaped([1, 1, 1, 5])
        #expect(adaptiveAvgPool2d(x, outputSize: (1, 3)).scalars == [0.5, 2, 3.5])
        let g = adaptiveAvgPool2d(grid, outputSize: (1, 1))
        #expect(g.scalars == [7.5])
        // 7 → 2 bins: [0,4), [3,7).
        let z = adaptiveAvgPool2d(Tensor.arange(0, 7).reshaped([1, 1, 7, 1]), outputSize: (2, 1))
        #expect(z.scalars == [1.5, 4.5])
    }

    @Test func bilinearResizeByHand() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 2, 3])
        // Align corners: 2 → 3 samples at 0, 0.5, 1.
        let a = resizeBilinear(x, size: (3, 3), alignCorners: true)
        #expect(a.scalars == [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3])
        // Half-pixel: 2 → 4, sources −0.25→0, 0.25, 0.75, 1.25→clamped to 1 (weights 0.25, 0.75).
        let h = resizeBilinear(x, size: (1, 4), alignCorners: false)
        #expect(h.shape == [1, 1, 1, 4])
        let row0 = resizeBilinear(Tensor(shape: [1, 1, 1, 2], scalars: [0, 1]), size: (1, 4)).scalars
        #expect(row0 == [0, 0.25, 0.75, 1])
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 6, 7])
    func finiteDifferences(_ which: Int) {
        var gen = SeededGenerator(seed: UInt64(10 + which))
        // A shuffled ramp with steps of 0.05 keeps max-pool windows away from ties, so the
        // finite-difference step (0.01) never changes which element wins.
        var values = (0..<168).map { Float($0) * 0.05 - 4 }
        values.shuffle(using: &gen)
        let x = Tensor(shape: [2, 2, 7, 6], scalars: values)
        let f: ([Tensor]) -> Tensor = switch which {
        case 0: { maxPool2d($0[0], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)) }
        case 1: { maxPool2d($0[0], kernelSize: (2, 2), ceilMode: true) }
        case 2: { avgPool2d($0[0], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)) }
        case 3: { avgPool2d($0[0], kernelSize: (3, 2), stride: (2, 1), padding: (1, 1), ceilMode: true, countIncludePad: false) }
        case 4: { adaptiveAvgPool2d($0[0], outputSize: (3, 4)) }
        case 5: { resizeBilinear($0[0], size: (5, 9), alignCorners: false) }
        case 6: { resizeBilinear($0[0], size: (4, 3), alignCorners: true) }
        default: { maxPool2d($0[0], kernelSize: (2, 2), stride: (1, 1), dilation: (2, 2)) }
        }
        let report = GradCheck.check([x], f)
        #expect(report.maxRelativeError < 1e-2, "case \(which): \(report)")
    }

    @Test func poolLayers() {
        #expect(MaxPool2d(kernelSize: 3, stride: 2, padding: 1)(.zeros([1, 1, 8, 8])).shape == [1, 1, 4, 4])
        #expect(AvgPool2d(kernelSize: 2)(.zeros([1, 2, 4, 6])).shape == [1, 2, 2, 3])
        #expect(AdaptiveAvgPool2d(1)(.zeros([2, 3, 5, 5])).shape == [2, 3, 1, 1])
    }
}
