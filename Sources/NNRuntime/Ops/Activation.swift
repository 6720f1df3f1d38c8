import Foundation

/// Activation functions with their VJPs. ReLU and ReLU6 are separate ops so that backward rules
/// (guided backprop) can target each.

/// `max(x, 0)`; the gradient at exactly 0 is 0, as PyTorch's `threshold_backward`.
public func relu(_ x: Tensor) -> Tensor {
    let out = x.mapParallel(ReLUKernel())
    return recordOp(.relu, inputs: [x], output: out) { g in
        [g.zipParallel(x, ReLUGradientKernel())]
    }
}

/// `min(max(x, 0), 6)` (MobileNet); the gradient passes for `0 < x < 6` (PyTorch's `hardtanh`).
public func relu6(_ x: Tensor) -> Tensor {
    let out = x.mapParallel(ReLU6Kernel())
    return recordOp(.relu6, inputs: [x], output: out) { g in
        [g.zipParallel(x, ReLU6GradientKernel())]
    }
}

/// `x` for `x > 0`, else `negativeSlope · x`.
public func leakyReLU(_ x: Tensor, negativeSlope: Float = 0.01) -> Tensor {
    let out = x.mapParallel(LeakyReLUKernel(slope: negativeSlope))
    return recordOp(.leakyReLU, inputs: [x], output: out) { g in
        [g.zipParallel(x, LeakyReLUGradientKernel(slope: negativeSlope))]
    }
}

/// `x` for `x > 0`, else 0 (NaN and −∞ included).
struct ReLUKernel: UnaryKernel {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 }
}

/// The upstream gradient `g` where `x > 0`, else 0.
struct ReLUGradientKernel: BinaryKernel {
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 ? g : 0 }
}

/// `x` for `x > 0`, else `slope · x`.
struct LeakyReLUKernel: UnaryKernel {
    let slope: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : slope * x }
}

/// The upstream gradient `g` where `x > 0`, else `slope · g`.
struct LeakyReLUGradientKernel: BinaryKernel {
    let slope: Float
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 ? g : slope * g }
}

struct ReLU6Kernel: UnaryKernel {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.min(Swift.max(x, 0), 6) }
}

struct ReLU6GradientKernel: BinaryKernel {
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 && x < 6 ? g : 0 }
}

/// The logistic function `1 / (1 + e^−x)`, computed without overflow for large |x|.
public func sigmoid(_ x: Tensor) -> Tensor {
    let out = x.map { v in v >= 0 ? 1 / (1 + Foundation.exp(-v)) : Foundation.exp(v) / (1 + Foundation.exp(v)) }
    return recordOp(.sigmoid, inputs: [x], output: out) { g in
        [g.zipMap(out) { gv, y in gv * y * (1 - y) }]
    }
}

/// Hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor {
    let out = x.map { Foundation.tanh($0) }
    return recordOp(.tanh, inputs: [x], output: out) { g in
        [g.zipMap(out) { gv, y in gv * (1 - y * y) }]
    }
}

/// Applies `body(row, count, stride)` to every line of `x` along `axis`, for the softmax family.
@inline(__always)
private func forEachLine(_ shape: [Int], axis: Int, _ body: (Int, Int, Int) -> Void) {
    let n = shape[axis]
    let inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
    for o in 0..<outer { for j in 0..<inner { body(o * n * inner + j, n, inner) } }
}

/// `exp(x − logsumexp(x))` along `axis`, with the maximum subtracted for stability.
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let a = ShapeUtil.normalize(axis: axis, rank: x.rank, op: "softmax")
    let out = Tensor(shape: x.shape) { dst in
        x.withUnsafeBufferPointer { p in
            forEachLine(x.shape, axis: a) { start, n, s in
                var m = -Float.infinity
                for k in 0..<n { m = Swift.max(m, p[start + k * s]) }
                var total: Float = 0
                for k in 0..<n { let e = Foundation.exp(p[start + k * s] - m); dst[start + k * s] = e; total += e }
                for k in 0..<n { dst[start + k * s] /= total }
            }
        }
    }
    return recordOp(.softmax, inputs: [x], output: out) { g in
        // dx = y ⊙ (g − Σ g⊙y)
        [Tensor(shape: x.shape) { dst in
            g.withUnsafeBufferPointer { pg in out.withUnsafeBufferPointer { py in
                forEachLine(x.shape, axis: a) { start, n, s in
                    var dot: Float = 0
                    for k in 0..<n { dot += pg[start + k * s] * py[start + k * s] }
                    for k in 0..<n { dst[start + k * s] = py[start + k * s] * (pg[start + k * s] - dot) }
                }
            } }
        }]
    }
}

/// `x − logsumexp(x)` along `axis`, computed stably.
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let a = ShapeUtil.normalize(axis: axis, rank: x.rank, op: "logSoftmax")
    let out = Tensor(shape: x.shape) { dst in
        x.withUnsafeBufferPointer { p in
            forEachLine(x.shape, axis: a) { start, n, s in
                var m = -Float.infinity
                for k in 0..<n { m = Swift.max(m, p[start + k * s]) }
                var total: Float = 0
                for k in 0..<n { total += Foundation.exp(p[start + k * s] - m) }
                let lse = m + Foundation.log(total)
                for k in 0..<n { dst[start + k * s] = p[start + k * s] - lse }
            }
        }
    }
    return recordOp(.logSoftmax, inputs: [x], output: out) { g in
        // dx = g − softmax(x) · Σ g
        [Tensor(shape: x.shape) { dst in
            g.withUnsafeBufferPointer { pg in out.withUnsafeBufferPointer { py in
                forEachLine(x.shape, axis: a) { start, n, s in
                    var total: Float = 0
                    for k in 0..<n { total += pg[start + k * s] }
                    for k in 0..<n { dst[start + k * s] = pg[start + k * s] - Foundation.exp(py[start + k * s]) * total }
                }
            } }
        }]
    }
}

extension Tensor {
    public func relu() -> Tensor { NNRuntime.relu(self) }
    public func relu6() -> Tensor { NNRuntime.relu6(self) }
    public func sigmoid() -> Tensor { NNRuntime.sigmoid(self) }
    public func tanh() -> Tensor { NNRuntime.tanh(self) }
    public func softmax(axis: Int = -1) -> Tensor { NNRuntime.softmax(self, axis: axis) }
    public func logSoftmax(axis: Int = -1) -> Tensor { NNRuntime.logSoftmax(self, axis: axis) }
}
