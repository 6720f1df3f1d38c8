import Testing
import NNRuntime
import TestSupport

/// The textbook 7-loop convolution, the oracle for the im2col/sgemm and depthwise kernels.
func naiveConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: (Int, Int), pads: (Int, Int, Int, Int),
                 dilation: (Int, Int), groups: Int) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let og = o / groups
    let ho = (h + pads.0 + pads.1 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
    let wo = (wd + pads.2 + pads.3 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
    var out = Tensor.zeros([n, o, ho, wo])
    let xv = x.scalars, wv = w.scalars, bv = b?.scalars
    for i in 0..<n { for oc in 0..<o { for oy in 0..<ho { for ox in 0..<wo {
        var s: Float = bv?[oc] ?? 0
        let grp = oc / og
        for ci in 0..<cg { for ki in 0..<kh { for kj in 0..<kw {
            let iy = oy * stride.0 - pads.0 + ki * dilation.0, ix = ox * stride.1 - pads.2 + kj * dilation.1
            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
            s += xv[((i * c + grp * cg + ci) * h + iy) * wd + ix] * wv[((oc * cg + ci) * kh + ki) * kw + kj]
        } } }
        out[index: i, oc, oy, ox] = s
    } } } }
    _ = c
    return out
}

struct ConvCase: Sendable, CustomTestStringConvertible {
    let name: String
    let input: [Int]            // N, C, H, W
    let outChannels: Int
    let kernel: (Int, Int)
    var stride = (1, 1)
    var padding = Padding2d.zero
    var dilation = (1, 1)
    var groups = 1
    var bias = true
    var testDescription: String { name }
}

let convCases: [ConvCase] = [
    ConvCase(name: "3x3 pad 1", input: [2, 3, 5, 6], outChannels: 4, kernel: (3, 3), padding: .symmetric(1, 1)),
    ConvCase(name: "stride 2", input: [2, 2, 7, 6], outChannels: 3, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1)),
    ConvCase(name: "dilation 2", input: [1, 2, 7, 7], outChannels: 2, kernel: (3, 3), padding: .symmetric(2, 2), dilation: (2, 2)),
    ConvCase(name: "asymmetric padding", input: [2, 2, 5, 4], outChannels: 3, kernel: (3, 2),
             padding: .explicit(top: 1, bottom: 0, left: 2, right: 1)),
    ConvCase(name: "TF SAME stride 2 odd", input: [1, 2, 7, 7], outChannels: 2, kernel: (3, 3), stride: (2, 2), padding: .same),
    ConvCase(name: "TF SAME stride 2 even k5", input: [1, 2, 6, 8], outChannels: 2, kernel: (5, 5), stride: (2, 2), padding: .same, bias: false),
    ConvCase(name: "groups 2", input: [2, 4, 5, 5], outChannels: 6, kernel: (3, 3), padding: .symmetric(1, 1), groups: 2),
    ConvCase(name: "depthwise", input: [2, 3, 6, 5], outChannels: 3, kernel: (3, 3), stride: (2, 1), padding: .symmetric(1, 1), groups: 3),
    ConvCase(name: "depthwise multiplier 2", input: [1, 2, 5, 5], outChannels: 4, kernel: (3, 3), padding: .same, groups: 2),
    ConvCase(name: "pointwise 1x1", input: [2, 4, 3, 3], outChannels: 5, kernel: (1, 1)),
    // Seven and five images: uneven sample ranges across the workers.
    ConvCase(name: "seven samples, groups 2, stride 2", input: [7, 4, 5, 5], outChannels: 4, kernel: (3, 3), stride: (2, 2),
             padding: .symmetric(1, 1), groups: 2),
    ConvCase(name: "five samples 1x1", input: [5, 3, 4, 4], outChannels: 2, kernel: (1, 1)),
    ConvCase(name: "1x1 stride 2", input: [1, 3, 5, 5], outChannels: 2, kernel: (1, 1), stride: (2, 2), bias: false),
    // Depthwise rows of eight or more outputs: the vector loop, its tail, stride-2 loads, dilation,
    // 5×5 (MobileNet, EfficientNet), and the stride-1 input gradient as a rotated convolution.
    ConvCase(name: "depthwise wide rows", input: [2, 3, 4, 21], outChannels: 3, kernel: (3, 3), padding: .symmetric(1, 1), groups: 3),
    ConvCase(name: "depthwise stride 2 wide", input: [1, 2, 5, 37], outChannels: 4, kernel: (3, 3), stride: (2, 2),
             padding: .symmetric(1, 1), groups: 2),
    ConvCase(name: "depthwise 5x5 dilation 2", input: [1, 2, 9, 19], outChannels: 2, kernel: (5, 5),
             padding: .explicit(top: 4, bottom: 3, left: 4, right: 2), dilation: (2, 2), groups: 2, bias: false),
    ConvCase(name: "depthwise SAME 5x5 stride 2", input: [1, 2, 9, 40], outChannels: 2, kernel: (5, 5), stride: (2, 2),
             padding: .same, groups: 2),
    // Stride-1 3×3 with eight or more channels each side: Winograd F(2×2, 3×3), forward and input gradient.
    ConvCase(name: "winograd pad 1, odd sizes", input: [3, 8, 7, 9], outChannels: 10, kernel: (3, 3), padding: .symmetric(1, 1)),
    ConvCase(name: "winograd valid", input: [2, 9, 6, 5], outChannels: 8, kernel: (3, 3), bias: false),
    ConvCase(name: "winograd asymmetric padding", input: [2, 8, 5, 6], outChannels: 8, kernel: (3, 3),
             padding: .explicit(top: 2, bottom: 0, left: 0, right: 2)),
    ConvCase(name: "winograd wide rows", input: [1, 8, 4, 37], outChannels: 9, kernel: (3, 3), padding: .symmetric(1, 1)),
    // Padding beyond 2: Winograd forward, im2col input gradient.
    ConvCase(name: "winograd pad 3", input: [2, 8, 4, 4], outChannels: 8, kernel: (3, 3), padding: .symmetric(3, 3), bias: false),
]

@Suite struct ConvolutionTests {
    func tensors(_ c: ConvCase, seed: UInt64 = 3) -> [Tensor] {
        var gen = SeededGenerator(seed: seed)
        var t = [Tensor.randn(c.input, using: &gen),
                 Tensor.randn([c.outChannels, c.input[1] / c.groups, c.kernel.0, c.kernel.1], using: &gen)]
        if c.bias { t.append(.randn([c.outChannels], using: &gen)) }
        return t
    }

    func run(_ c: ConvCase, _ t: [Tensor]) -> Tensor {
        conv2d(t[0], weight: t[1], bias: c.bias ? t[2] : nil, stride: c.stride, padding: c.padding,
               dilation: c.dilation, groups: c.groups)
    }

    @Test(arguments: convCases)
    func matchesTextbookConvolution(_ c: ConvCase) {
        let t = tensors(c)
        let p = c.padding.resolve(inputHeight: c.input[2], inputWidth: c.input[3], kernel: c.kernel,
                                  stride: c.stride, dilation: c.dilation)
        let expected = naiveConv2d(t[0], t[1], c.bias ? t[2] : nil, stride: c.stride,
                                   pads: (p.top, p.bottom, p.left, p.right), dilation: c.dilation, groups: c.groups)
        let got = run(c, t)
        #expect(got.shape == expected.shape)
        #expect(Compare.maxScaledDifference(got, expected) < 1e-5, "\(c.name)")
    }

    @Test(arguments: convCases)
    func finiteDifferences(_ c: ConvCase) {
        let report = GradCheck.check(tensors(c)) { run(c, $0) }
        #expect(report.maxRelativeError < 1e-2, "\(c.name): \(report)")
    }

    @Test func samePaddingSplitsTheExtraPixelBottomRight() {
        // 224 input, k3 s2: output 112, total padding (111·2 + 3 − 224) = 1 → (0, 1), as TF.
        let p = Padding2d.same.resolve(inputHeight: 224, inputWidth: 224, kernel: (3, 3), stride: (2, 2), dilation: (1, 1))
        #expect(p.top == 0 && p.bottom == 1 && p.left == 0 && p.right == 1)
        // k5 s2 on 56: total 27·2 + 5 − 56 = 3 → (1, 2).
        let q = Padding2d.same.resolve(inputHeight: 56, inputWidth: 56, kernel: (5, 5), stride: (2, 2), dilation: (1, 1))
        #expect(q.top == 1 && q.bottom == 2)
    }

    @Test func convLayerGradientsIncludeParameters() {
        let conv = Conv2d(2, 3, kernelSize: 3, stride: 2, padding: .symmetric(1, 1), seed: 4)
        var gen = SeededGenerator(seed: 1)
        let report = GradCheck.check([.randn([2, 2, 5, 5], using: &gen)], module: conv) { conv($0[0]) }
        #expect(report.maxRelativeError < 1e-2, "\(report)")
        #expect(conv.stateDict().map(\.0) == ["weight", "bias"])
        #expect(conv.weight.value.shape == [3, 2, 3, 3])
    }
}
