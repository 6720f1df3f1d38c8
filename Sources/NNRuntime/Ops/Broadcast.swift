/// The broadcasting kernel behind every binary elementwise op, and the reduction that undoes a
/// broadcast in the VJP (a gradient is summed over the axes its input was stretched along).

/// Applies `f` to `a` and `b` broadcast against each other (NumPy rules).
@inline(__always)
func broadcastMap(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> Tensor {
    if a.shape == b.shape {
        return Tensor(shape: a.shape) { out in
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                for i in 0..<out.count { out[i] = f(pa[i], pb[i]) }
            } }
        }
    }
    guard let shape = ShapeUtil.broadcast(a.shape, b.shape) else {
        preconditionFailure("\(op): shapes \(a.shape) and \(b.shape) cannot be broadcast together")
    }
    if b.count == 1 {
        let s = b.storage.pointer[0]
        return Tensor(shape: shape) { out in
            a.withUnsafeBufferPointer { pa in for i in 0..<out.count { out[i] = f(pa[i], s) } }
        }
    }
    if a.count == 1 {
        let s = a.storage.pointer[0]
        return Tensor(shape: shape) { out in
            b.withUnsafeBufferPointer { pb in for i in 0..<out.count { out[i] = f(s, pb[i]) } }
        }
    }
    let rank = shape.count
    let sa = ShapeUtil.broadcastStrides(a.shape, to: shape)
    let sb = ShapeUtil.broadcastStrides(b.shape, to: shape)
    let inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
    return Tensor(shape: shape) { out in
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            var index = [Int](repeating: 0, count: rank)
            var offA = 0, offB = 0, o = 0
            let rows = inner == 0 ? 0 : out.count / inner
            for _ in 0..<rows {
                for j in 0..<inner { out[o + j] = f(pa[offA + j * ia], pb[offB + j * ib]) }
                o += inner
                // Advance the multi-index over all axes but the last.
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] += 1
                    offA += sa[axis]; offB += sb[axis]
                    if index[axis] < shape[axis] { break }
                    offA -= sa[axis] * shape[axis]; offB -= sb[axis] * shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        } }
    }
}

/// Sums `g` over the axes along which `shape` was broadcast to produce `g.shape`, giving a tensor of
/// `shape` (the VJP of broadcasting).
func unbroadcast(_ g: Tensor, to shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    let offset = g.rank - shape.count
    var axes = Array(0..<offset)
    for i in 0..<shape.count where shape[i] == 1 && g.shape[i + offset] != 1 { axes.append(i + offset) }
    return g.sum(axes: axes, keepDims: true).reshaped(shape.isEmpty ? [] : shape)
}

extension Tensor {
    /// This tensor stretched to `shape` by broadcasting (PyTorch `expand`, but materialised).
    public func broadcast(to shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        guard ShapeUtil.broadcast(self.shape, shape) == shape else {
            preconditionFailure("broadcast(to:): shape \(self.shape) cannot be broadcast to \(shape)")
        }
        let out = broadcastMap(Tensor.zeros(shape), self.detached(), op: "broadcast") { _, v in v }
        let inShape = self.shape
        return recordOp(.broadcast, inputs: [self], output: out) { g in [unbroadcast(g, to: inShape)] }
    }
}
