/// Reductions over axes: sum, mean, max (with the argmax gradient), variance.
///
/// Each reduces one axis at a time as an `outer × n × inner` loop, which keeps memory access
/// sequential; several axes are reduced one after another.

/// Sums axis `axis` (kept as size 1) of a contiguous tensor.
private func sumAxis(_ x: Tensor, _ axis: Int) -> Tensor {
    let n = x.shape[axis]
    let inner = x.shape[(axis + 1)...].reduce(1, *)
    let outer = x.shape[..<axis].reduce(1, *)
    var shape = x.shape
    shape[axis] = 1
    return Tensor(shape: shape) { out in
        x.withUnsafeBufferPointer { p in
            for o in 0..<outer {
                let dst = o * inner
                for j in 0..<inner { out[dst + j] = 0 }
                for k in 0..<n {
                    let src = (o * n + k) * inner
                    for j in 0..<inner { out[dst + j] += p[src + j] }
                }
            }
        }
    }
}

private func reductionAxes(_ axes: [Int]?, rank: Int, op: String) -> [Int] {
    guard let axes else { return Array(0..<rank) }
    return Set(axes.map { ShapeUtil.normalize(axis: $0, rank: rank, op: op) }).sorted()
}

private func reducedShape(_ shape: [Int], axes: [Int], keepDims: Bool) -> [Int] {
    keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
             : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
}

extension Tensor {
    /// Sum over `axes` (all axes when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, rank: rank, op: "sum")
        var out = self.detached()
        for axis in axes { out = sumAxis(out, axis) }
        out = Tensor(shape: reducedShape(shape, axes: axes, keepDims: keepDims), storage: out.storage)
        let keptShape = reducedShape(shape, axes: axes, keepDims: true)
        let inShape = shape
        return recordOp(.sum, inputs: [self], output: out) { g in
            [g.reshaped(keptShape).broadcast(to: inShape)]
        }
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, rank: rank, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) / Float(Swift.max(n, 1))
    }

    /// Maximum along one axis. The gradient flows to the first maximal element, the index PyTorch's
    /// `max(dim)` returns.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = ShapeUtil.normalize(axis: axis, rank: rank, op: "max")
        let (values, indices) = maxWithIndices(axis: a)
        let out = keepDims ? values : values.reshaped(reducedShape(shape, axes: [a], keepDims: false))
        let inShape = shape
        let keptShape = values.shape
        return recordOp(.max, inputs: [self], output: out) { g in
            let n = inShape[a]
            let inner = inShape[(a + 1)...].reduce(1, *)
            let gk = g.reshaped(keptShape)
            return [Tensor(shape: inShape) { dst in
                dst.initialize(repeating: 0)
                gk.withUnsafeBufferPointer { pg in
                    for r in 0..<pg.count {
                        let o = r / inner, j = r % inner
                        dst[(o * n + indices[r]) * inner + j] = pg[r]
                    }
                }
            }]
        }
    }

    /// Maximum over all elements.
    public func max() -> Tensor { reshaped([count]).max(axis: 0) }

    /// Index of the maximum along `axis` (the first one at ties); not differentiable.
    public func argmax(axis: Int) -> [Int] {
        let a = ShapeUtil.normalize(axis: axis, rank: rank, op: "argmax")
        return maxWithIndices(axis: a).1
    }

    private func maxWithIndices(axis a: Int) -> (Tensor, [Int]) {
        let n = shape[a]
        precondition(n > 0, "max: axis \(a) of shape \(shape) is empty")
        let inner = shape[(a + 1)...].reduce(1, *)
        let outer = shape[..<a].reduce(1, *)
        var kept = shape
        kept[a] = 1
        var indices = [Int](repeating: 0, count: outer * inner)
        let values = Tensor(shape: kept) { out in
            withUnsafeBufferPointer { p in
                for o in 0..<outer {
                    for j in 0..<inner {
                        var best = p[o * n * inner + j], bi = 0
                        for k in 1..<Swift.max(n, 1) {
                            let v = p[(o * n + k) * inner + j]
                            if v > best || (v.isNaN && !best.isNaN) { best = v; bi = k }
                        }
                        out[o * inner + j] = best
                        indices[o * inner + j] = bi
                    }
                }
            }
        }
        return (values, indices)
    }

    /// Variance over `axes`, unbiased (divides by n − 1) unless `unbiased` is false, as PyTorch.
    public func variance(axes: [Int]? = nil, unbiased: Bool = true, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, rank: rank, op: "variance")
        let n = axes.reduce(1) { $0 * shape[$1] }
        let centred = self - mean(axes: axes, keepDims: true)
        return centred.squared().sum(axes: axes, keepDims: keepDims) / Float(Swift.max(unbiased ? n - 1 : n, 1))
    }
}
