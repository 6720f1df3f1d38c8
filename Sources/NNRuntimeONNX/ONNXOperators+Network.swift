import NNRuntime

/// Convolution, normalisation, dense layers, pooling, softmax, reductions and resizing: the
/// operators that carry a CNN's weights and spatial structure. 2-D (NCHW) layouts only.
extension ONNXOperators {
    static let networkKernels: [String: ONNXKernel] = [
        "Conv": conv,
        "BatchNormalization": { c in
            let x = try c.float(0)
            guard x.rank >= 2, x.shape[1] > 0 else { throw c.error("expected [N, C, ...] input, got \(x.shape)") }
            let parameters = try (1...4).map { try c.float($0) }
            guard parameters.allSatisfy({ $0.shape == [x.shape[1]] }) else {
                throw c.error("scale, bias, mean and var must have \(x.shape[1]) values, got \(parameters.map(\.shape))")
            }
            if c.int("training_mode", 0) != 0 { throw c.error("training_mode = 1; interp runs graphs for inference") }
            let y = batchNorm(x, runningMean: parameters[2], runningVar: parameters[3], weight: parameters[0],
                              bias: parameters[1], training: false, eps: c.float("epsilon", 1e-5)).output
            return [.float(y)]
        },
        "Gemm": gemm,
        "MatMul": { c in [.float(try matrixProduct(try c.float(0), try c.float(1), c))] },
        "MaxPool": { c in try [pool(c, max: true)] },
        "AveragePool": { c in try [pool(c, max: false)] },
        "GlobalAveragePool": { c in
            let x = try c.float(0)
            guard x.rank == 4 else { throw c.error("expected [N, C, H, W] input, got \(x.shape)") }
            return [.float(adaptiveAvgPool2d(x, outputSize: (1, 1)))]
        },
        "Softmax": { c in
            let x = try c.float(0)
            if c.opset >= 13 { return [.float(softmax(x, axis: try c.axis(c.int("axis", -1), rank: x.rank)))] }
            // Before opset 13 the input is coerced to 2-D at `axis` and normalised over the second part.
            let a = try c.axis(c.int("axis", 1), rank: x.rank)
            let rows = x.shape[..<a].reduce(1, *)
            return [.float(softmax(x.reshaped([rows, x.count / max(rows, 1)]), axis: 1).reshaped(x.shape))]
        },
        "ReduceMean": { c in
            let x = try c.float(0)
            let given = c.opset >= 18 ? (c.optional(1) == nil ? nil : try c.ints(1)) : c.ints("axes")
            if (given ?? []).isEmpty && c.int("noop_with_empty_axes", 0) != 0 { return [.float(x)] }
            let axes = try (given?.isEmpty == false ? given! : Array(x.shape.indices)).map { try c.axis($0, rank: x.rank) }
            return [.float(x.mean(axes: axes, keepDims: c.int("keepdims", 1) != 0))]
        },
        "Resize": resize,
    ]

    static func conv(_ c: ONNXCall) throws -> [ONNXValue] {
        let (x, w) = (try c.float(0), try c.float(1))
        let bias = try c.optional(2).map { _ in try c.float(2) }
        guard x.rank == 4, w.rank == 4 else { throw c.error("interp runs 2-D convolutions ([N, C, H, W] input, 4-D weight); got \(x.shape) and \(w.shape)") }
        let group = c.int("group", 1)
        guard group >= 1, x.shape[1] == w.shape[1] * group, w.shape[0] % group == 0 else {
            throw c.error("input channels \(x.shape[1]) do not match weight \(w.shape) with group \(group)")
        }
        if let b = bias, b.shape != [w.shape[0]] { throw c.error("bias \(b.shape) does not match \(w.shape[0]) output channels") }
        let kernel = (w.shape[2], w.shape[3])
        let strides = c.ints("strides") ?? [1, 1], dilations = c.ints("dilations") ?? [1, 1]
        guard strides.count == 2, dilations.count == 2, (strides + dilations).allSatisfy({ $0 > 0 }) else {
            throw c.error("strides \(strides) and dilations \(dilations) must be two positive integers each")
        }
        let padding = try padding2d(c, input: (x.shape[2], x.shape[3]), kernel: kernel, strides: strides, dilations: dilations)
        let p = padding.resolve(inputHeight: x.shape[2], inputWidth: x.shape[3], kernel: kernel,
                                stride: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]))
        guard x.shape[2] + p.top + p.bottom >= dilations[0] * (kernel.0 - 1) + 1,
              x.shape[3] + p.left + p.right >= dilations[1] * (kernel.1 - 1) + 1 else {
            throw c.error("kernel \(kernel) is larger than the padded input \(x.shape)")
        }
        return [.float(conv2d(x, weight: w, bias: bias, stride: (strides[0], strides[1]), padding: padding,
                              dilation: (dilations[0], dilations[1]), groups: group))]
    }

    /// `auto_pad` and `pads` (`[top, left, bottom, right]`) as a ``Padding2d``.
    static func padding2d(_ c: ONNXCall, input: (Int, Int), kernel: (Int, Int), strides: [Int], dilations: [Int]) throws -> Padding2d {
        switch c.string("auto_pad", "NOTSET") {
        case "NOTSET":
            let pads = c.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else { throw c.error("pads \(pads) must be four non-negative integers") }
            return .explicit(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3])
        case "VALID": return .zero
        case "SAME_UPPER": return .same
        case "SAME_LOWER":
            let upper = Padding2d.same.resolve(inputHeight: input.0, inputWidth: input.1, kernel: kernel,
                                               stride: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]))
            return .explicit(top: upper.bottom, bottom: upper.top, left: upper.right, right: upper.left)
        case let other: throw c.error("auto_pad '\(other)' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
        }
    }

    /// `Gemm`: `α·A'·B' + β·C` with optional transposes; `transB = 1` with a vector bias (what
    /// `nn.Linear` exports) runs as one fused linear op.
    static func gemm(_ c: ONNXCall) throws -> [ONNXValue] {
        var a = try c.float(0), b = try c.float(1)
        guard a.rank == 2, b.rank == 2 else { throw c.error("expects 2-D inputs, got \(a.shape) and \(b.shape)") }
        let (alpha, beta) = (c.float("alpha", 1), c.float("beta", 1))
        if c.int("transA", 0) != 0 { a = a.transposed() }
        let bias = try c.optional(2).map { _ in try c.float(2) }
        let transB = c.int("transB", 0) != 0
        let inner = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        guard a.shape[1] == inner else { throw c.error("cannot multiply \(a.shape) by \(transB ? "transposed " : "")\(b.shape)") }
        if transB, alpha == 1, beta == 1, bias == nil || bias!.count == n {
            return [.float(linear(a, weight: b, bias: bias?.reshaped([n])))]
        }
        if !transB { b = b.transposed() }
        var y = linear(a, weight: b)
        if alpha != 1 { y = y * alpha }
        if let bias {
            _ = try broadcastShape(y.shape, bias.shape, c)
            y = y + (beta == 1 ? bias : bias * beta)
        }
        return [.float(y)]
    }

    /// numpy `matmul` for the cases CNN exports produce: 2-D × 2-D, N-D × 2-D (a dense layer over the
    /// last axis), 1-D operands, and equal-batch 3-D × 3-D.
    static func matrixProduct(_ a: Tensor, _ b: Tensor, _ c: ONNXCall) throws -> Tensor {
        if a.rank == 1 { return try matrixProduct(a.unsqueezed(axis: 0), b, c).squeezed(axis: -2) }
        if b.rank == 1 { return try matrixProduct(a, b.unsqueezed(axis: 1), c).squeezed(axis: -1) }
        guard a.shape[a.rank - 1] == b.shape[b.rank - 2] else { throw c.error("cannot multiply \(a.shape) by \(b.shape)") }
        if b.rank == 2 {
            let k = a.shape[a.rank - 1]
            let y = matmul(a.rank == 2 ? a : a.reshaped([-1, k]), b)
            return a.rank == 2 ? y : y.reshaped(Array(a.shape.dropLast()) + [b.shape[1]])
        }
        guard a.rank == 3, b.rank == 3, a.shape[0] == b.shape[0] else {
            throw c.error("interp multiplies 2-D, N-D × 2-D and equal-batch 3-D tensors; got \(a.shape) × \(b.shape)")
        }
        return matmul(a, b)
    }

    /// `MaxPool` and `AveragePool` over NCHW. Symmetric padding within half the kernel runs the
    /// pooling ops' own padding; other padding is applied explicitly first (−∞ for max, 0 for an
    /// average that counts padding).
    static func pool(_ c: ONNXCall, max isMax: Bool) throws -> ONNXValue {
        var x = try c.float(0)
        guard x.rank == 4 else { throw c.error("interp pools [N, C, H, W] inputs, got \(x.shape)") }
        guard c.node.outputs.count == 1 else { throw c.error("the indices output of MaxPool is not supported") }
        guard let k = c.ints("kernel_shape"), k.count == 2, k.allSatisfy({ $0 > 0 }) else {
            throw c.error("kernel_shape must be two positive integers")
        }
        let strides = c.ints("strides") ?? [1, 1], dilations = c.ints("dilations") ?? [1, 1]
        guard strides.count == 2, dilations.count == 2, (strides + dilations).allSatisfy({ $0 > 0 }) else {
            throw c.error("strides \(strides) and dilations \(dilations) must be two positive integers each")
        }
        guard isMax || dilations == [1, 1] else { throw c.error("dilated average pooling is not supported") }
        let p = try padding2d(c, input: (x.shape[2], x.shape[3]), kernel: (k[0], k[1]), strides: strides, dilations: dilations)
            .resolve(inputHeight: x.shape[2], inputWidth: x.shape[3], kernel: (k[0], k[1]), stride: (strides[0], strides[1]),
                     dilation: (dilations[0], dilations[1]))
        let ceil = c.int("ceil_mode", 0) != 0
        let countPad = c.int("count_include_pad", 0) != 0
        var padding = (p.top, p.left)
        if p.top != p.bottom || p.left != p.right || p.top > k[0] / 2 || p.left > k[1] / 2 {
            guard isMax || countPad else { throw c.error("asymmetric or wide padding with count_include_pad = 0 is not supported") }
            x = x.padded([(p.left, p.right), (p.top, p.bottom)], value: isMax ? -.infinity : 0)
            padding = (0, 0)
        }
        for axis in 0..<2 {
            let size = x.shape[2 + axis] + 2 * (axis == 0 ? padding.0 : padding.1)
            guard size >= dilations[axis] * (k[axis] - 1) + 1 else { throw c.error("window \(k) is larger than the padded input \(x.shape)") }
        }
        let kernel = (k[0], k[1]), stride = (strides[0], strides[1])
        if isMax {
            return .float(maxPool2d(x, kernelSize: kernel, stride: stride, padding: padding,
                                    dilation: (dilations[0], dilations[1]), ceilMode: ceil))
        }
        return .float(avgPool2d(x, kernelSize: kernel, stride: stride, padding: padding, ceilMode: ceil, countIncludePad: countPad))
    }

    /// `Resize` of the spatial axes: `linear` with half-pixel or align-corners coordinates (PyTorch's
    /// bilinear `interpolate`), and `nearest` with asymmetric coordinates and integer factors
    /// (PyTorch's nearest `interpolate`).
    static func resize(_ c: ONNXCall) throws -> [ONNXValue] {
        let x = try c.float(0)
        guard x.rank == 4 else { throw c.error("interp resizes [N, C, H, W] inputs, got \(x.shape)") }
        var size: (Int, Int)
        if let sizes = c.optional(3), sizes.shape.reduce(1, *) > 0 {
            let s = try c.ints(3)
            guard s.count == 4, s[0] == x.shape[0], s[1] == x.shape[1], s[2] > 0, s[3] > 0 else { throw c.error("sizes \(s) must keep N and C of \(x.shape)") }
            size = (s[2], s[3])
        } else if let scales = c.optional(2), scales.shape.reduce(1, *) > 0 {
            let s = scales.asFloat.scalars
            guard s.count == 4, s[0] == 1, s[1] == 1, s[2] > 0, s[3] > 0 else { throw c.error("scales \(s) must be [1, 1, h, w]") }
            size = (Int((Float(x.shape[2]) * s[2]).rounded(.down)), Int((Float(x.shape[3]) * s[3]).rounded(.down)))
        } else {
            throw c.error("needs scales or sizes")
        }
        let mode = c.string("mode", "nearest"), coordinates = c.string("coordinate_transformation_mode", "half_pixel")
        switch (mode, coordinates) {
        case ("linear", "half_pixel"), ("linear", "pytorch_half_pixel"):
            return [.float(resizeBilinear(x, size: size, alignCorners: false))]
        case ("linear", "align_corners"):
            return [.float(resizeBilinear(x, size: size, alignCorners: true))]
        case ("nearest", "asymmetric"):
            guard size.0 % x.shape[2] == 0, size.1 % x.shape[3] == 0 else {
                throw c.error("nearest resizing from \(x.shape[2])×\(x.shape[3]) to \(size.0)×\(size.1) is not an integer factor")
            }
            let (fy, fx) = (size.0 / x.shape[2], size.1 / x.shape[3])
            // Output pixel i reads input i/f rounded by nearest_mode; only floor (what PyTorch exports) is
            // a plain repeat for every factor, and rounding half down agrees with it for factors up to 2.
            let rounding = c.string("nearest_mode", "round_prefer_floor")
            guard rounding == "floor" || (rounding == "round_prefer_floor" && max(fy, fx) <= 2) else {
                throw c.error("nearest_mode '\(rounding)' with factor \(max(fy, fx)) is not supported (floor, or factors up to 2)")
            }
            let (n, ch, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            return [.float(x.reshaped([n, ch, h, 1, w, 1]).broadcast(to: [n, ch, h, fy, w, fx]).reshaped([n, ch, h * fy, w * fx]))]
        default:
            throw c.error("mode '\(mode)' with coordinate_transformation_mode '\(coordinates)' is not supported (linear with half_pixel or align_corners, nearest with asymmetric)")
        }
    }
}
