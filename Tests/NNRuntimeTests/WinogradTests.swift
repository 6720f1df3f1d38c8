import Testing
@testable import NNRuntime
import TestSupport

/// Winograd F(2×2, 3×3) against the textbook convolution: chunk boundaries that split rows of
/// tiles across samples, which convolutions take it, and the input gradient written as a
/// convolution of the output gradient.
@Suite struct WinogradTests {
    func geometry(_ x: [Int], out: Int, padding: Padding2d) -> ConvGeometry {
        ConvGeometry(input: x, weight: [out, x[1], 3, 3], stride: (1, 1), padding: padding, dilation: (1, 1), groups: 1)
    }

    @Test(arguments: [1, 2, 3, 5])
    func chunksOfAnySizeGiveTheSameConvolution(_ chunkRows: Int) {
        var gen = SeededGenerator(seed: 11)
        let x = Tensor.randn([3, 8, 7, 10], using: &gen), w = Tensor.randn([9, 8, 3, 3], using: &gen)
        let g = geometry(x.shape, out: 9, padding: .symmetric(1, 1))
        let winograd = Winograd3x3(forward: g)
        let y = Tensor(shape: [3, 9, 7, 10]) { dst in
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in
                winograd.convolve(px.baseAddress!, weight: pw.baseAddress!, flipped: false, into: dst.baseAddress!, chunkRows: chunkRows)
            } }
        }
        let expected = naiveConv2d(x, w, nil, stride: (1, 1), pads: (1, 1, 1, 1), dilation: (1, 1), groups: 1)
        #expect(Compare.maxScaledDifference(y, expected) < 1e-5)
    }

    @Test func inputGradientIsTheFlippedConvolutionOfTheOutputGradient() {
        var gen = SeededGenerator(seed: 12)
        let x = Tensor.randn([2, 8, 6, 7], using: &gen), w = Tensor.randn([10, 8, 3, 3], using: &gen)
        let g = geometry(x.shape, out: 10, padding: .explicit(top: 1, bottom: 2, left: 0, right: 1))
        let dy = Tensor.randn([2, 10, g.ho, g.wo], using: &gen)
        let winograd = Winograd3x3(inputGradientOf: g)!
        #expect((winograd.k, winograd.m, winograd.ho, winograd.wo) == (10, 8, 6, 7))
        let dx = Tensor(shape: x.shape) { dst in
            dy.withUnsafeBufferPointer { py in w.withUnsafeBufferPointer { pw in
                winograd.convolve(py.baseAddress!, weight: pw.baseAddress!, flipped: true, into: dst.baseAddress!, chunkRows: 2)
            } }
        }
        // ⟨dy, conv(x)⟩ is linear in x, so its gradient is the VJP the im2col path computes.
        let tape = GradientTape()
        let xs = tape.watch(x)
        let y = tape.record { conv2d(xs, weight: w, padding: .explicit(top: 1, bottom: 2, left: 0, right: 1)) }
        let textbook = naiveConv2d(x, w, nil, stride: (1, 1), pads: (1, 2, 0, 1), dilation: (1, 1), groups: 1)
        #expect(Compare.maxScaledDifference(y, textbook) < 1e-5)
        let expected = tape.gradient(of: y, seed: dy)[xs]!
        #expect(Compare.maxScaledDifference(dx, expected) < 1e-5)
        // The same through the naive oracle: dx[c, i, j] = Σ dy[o, i + 1 − a, j − b] · w[o, c, a, b].
        var oracle = Tensor.zeros(x.shape)
        for s in 0..<2 { for c in 0..<8 { for i in 0..<6 { for j in 0..<7 {
            var total: Float = 0
            for o in 0..<10 { for a in 0..<3 { for b in 0..<3 {
                let oy = i + 1 - a, ox = j + 0 - b
                guard oy >= 0, oy < g.ho, ox >= 0, ox < g.wo else { continue }
                total += dy[index: s, o, oy, ox] * w[index: o, c, a, b]
            } } }
            oracle[index: s, c, i, j] = total
        } } } }
        #expect(Compare.maxScaledDifference(dx, oracle) < 1e-5)
    }

    @Test(arguments: [1, 3, 100])
    func weightGradientSumsEveryTileOfEveryChunk(_ chunkRows: Int) {
        var gen = SeededGenerator(seed: 13)
        let x = Tensor.randn([3, 8, 5, 7], using: &gen)
        let g = geometry(x.shape, out: 9, padding: .explicit(top: 1, bottom: 0, left: 2, right: 1))
        let dy = Tensor.randn([3, 9, g.ho, g.wo], using: &gen)
        let dw = Tensor(shape: [9, 8, 3, 3]) { dst in
            x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { py in
                Winograd3x3(forward: g).weightGradient(px.baseAddress!, dy: py.baseAddress!, into: dst.baseAddress!,
                                                       chunkRows: chunkRows)
            } }
        }
        // dw[o, c, a, b] = Σ dy[s, o, y, x] · x[s, c, y + a − 1, x + b − 2]
        var oracle = Tensor.zeros([9, 8, 3, 3])
        for o in 0..<9 { for c in 0..<8 { for a in 0..<3 { for b in 0..<3 {
            var total: Float = 0
            for s in 0..<3 { for y in 0..<g.ho { for xo in 0..<g.wo {
                let iy = y + a - 1, ix = xo + b - 2
                guard iy >= 0, iy < 5, ix >= 0, ix < 7 else { continue }
                total += dy[index: s, o, y, xo] * x[index: s, c, iy, ix]
            } } }
            oracle[index: o, c, a, b] = total
        } } } }
        #expect(Compare.maxScaledDifference(dw, oracle) < 1e-5)
    }

    @Test func takesStrideOneThreeByThreeWithEnoughChannels() {
        #expect(Winograd3x3.applies(to: geometry([1, 8, 5, 5], out: 8, padding: .symmetric(1, 1))))
        #expect(!Winograd3x3.applies(to: geometry([1, 3, 5, 5], out: 8, padding: .symmetric(1, 1))))
        let strided = ConvGeometry(input: [1, 8, 5, 5], weight: [8, 8, 3, 3], stride: (2, 2), padding: .symmetric(1, 1),
                                   dilation: (1, 1), groups: 1)
        #expect(!Winograd3x3.applies(to: strided))
        let grouped = ConvGeometry(input: [1, 16, 5, 5], weight: [16, 8, 3, 3], stride: (1, 1), padding: .symmetric(1, 1),
                                   dilation: (1, 1), groups: 2)
        #expect(!Winograd3x3.applies(to: grouped))
        // Padding beyond 2 leaves part of dy unused by dx: no Winograd input gradient.
        #expect(Winograd3x3(inputGradientOf: geometry([1, 8, 4, 4], out: 8, padding: .symmetric(3, 3))) == nil)
    }
}
