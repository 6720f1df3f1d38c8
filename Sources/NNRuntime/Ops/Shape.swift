/// Shape ops: reshape, permute, slice, concatenation and constant padding, each with its VJP.

extension Tensor {
    /// The same values with a new shape; one dimension may be `-1` (inferred). Shares storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dims = newShape
        if let i = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshaped: cannot infer -1 in \(newShape) for \(count) elements")
            dims[i] = count / known
        }
        precondition(ShapeUtil.count(dims) == count, "reshaped: shape \(newShape) does not hold \(count) elements of \(shape)")
        if dims == shape { return self }
        let out = Tensor(shape: dims, storage: storage)
        let inShape = shape
        return recordOp(.reshape, inputs: [self], output: out) { g in [g.reshaped(inShape)] }
    }

    /// Collapses axes `startAxis...endAxis` into one (PyTorch `flatten`).
    public func flattened(startAxis: Int = 1, endAxis: Int = -1) -> Tensor {
        let s = ShapeUtil.normalize(axis: startAxis, rank: rank, op: "flattened")
        let e = ShapeUtil.normalize(axis: endAxis, rank: rank, op: "flattened")
        guard s < e else { return self }
        let merged = shape[s...e].reduce(1, *)
        return reshaped(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Inserts a size-1 axis at `axis`.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes size-1 axes (only `axis` when given).
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = ShapeUtil.normalize(axis: axis, rank: rank, op: "squeezed")
            guard shape[a] == 1 else { return self }
            var s = shape
            s.remove(at: a)
            return reshaped(s)
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    /// Axes reordered: result axis `i` is input axis `axes[i]` (PyTorch `permute`).
    public func permuted(_ axes: [Int]) -> Tensor {
        let perm = axes.map { ShapeUtil.normalize(axis: $0, rank: rank, op: "permuted") }
        precondition(perm.count == rank && Set(perm).count == rank, "permuted: \(axes) is not a permutation of \(rank) axes")
        if perm == Array(0..<rank) { return self }
        let outShape = perm.map { shape[$0] }
        let inStrides = ShapeUtil.strides(shape)
        let srcStrides = perm.map { inStrides[$0] }
        let out = Tensor(shape: outShape) { dst in
            withUnsafeBufferPointer { src in
                var index = [Int](repeating: 0, count: rank)
                var offset = 0
                for o in 0..<dst.count {
                    dst[o] = src[offset]
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        offset += srcStrides[axis]
                        if index[axis] < outShape[axis] { break }
                        offset -= srcStrides[axis] * outShape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return recordOp(.permute, inputs: [self], output: out) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (PyTorch `transpose`).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var perm = Array(0..<rank)
        perm.swapAt(ShapeUtil.normalize(axis: a, rank: rank), ShapeUtil.normalize(axis: b, rank: rank))
        return permuted(perm)
    }

    /// Elements `start..<end` (step `step`) along `axis`; negative bounds count from the end.
    public func slice(axis: Int, start: Int = 0, end: Int? = nil, step: Int = 1) -> Tensor {
        let a = ShapeUtil.normalize(axis: axis, rank: rank, op: "slice")
        precondition(step > 0, "slice: step must be positive, got \(step)")
        let n = shape[a]
        let lo = Swift.min(Swift.max(start < 0 ? start + n : start, 0), n)
        let hi = Swift.min(Swift.max((end ?? n) < 0 ? (end ?? n) + n : (end ?? n), lo), n)
        return selecting(axis: a, indices: Array(Swift.stride(from: lo, to: hi, by: step)), op: .slice)
    }

    /// The `i`-th entry along axis 0, without that axis (`x[i]`).
    public subscript(_ i: Int) -> Tensor { slice(axis: 0, start: i, end: i + 1).squeezed(axis: 0) }

    /// The entry at `(i, j)` of a rank-2 tensor as a scalar tensor (`logits[0, 3]`), differentiable.
    public subscript(_ i: Int, _ j: Int) -> Tensor { self[i][j] }

    /// Constant padding: `padding[k] = (before, after)` for axis `k` counted from the **last** axis,
    /// as `torch.nn.functional.pad` orders it. Negative values crop.
    public func padded(_ padding: [(Int, Int)], value: Float = 0) -> Tensor {
        precondition(padding.count <= rank, "padded: \(padding.count) axes of padding for a rank-\(rank) tensor")
        var before = [Int](repeating: 0, count: rank), after = before
        for (k, p) in padding.enumerated() { before[rank - 1 - k] = p.0; after[rank - 1 - k] = p.1 }
        let outShape = (0..<rank).map { shape[$0] + before[$0] + after[$0] }
        precondition(outShape.allSatisfy { $0 >= 0 }, "padded: padding \(padding) crops more than shape \(shape)")
        var result = Tensor(repeating: value, shape: outShape)
        copyRegion(from: self, into: &result, offset: before)
        let inShape = shape
        return recordOp(.pad, inputs: [self], output: result) { g in
            var gx = Tensor.zeros(inShape)
            copyRegion(from: g, into: &gx, offset: before.map { -$0 })
            return [gx]
        }
    }
}

/// Concatenation along `axis` (PyTorch `cat`).
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
    precondition(!tensors.isEmpty, "concat: no tensors")
    let rank = tensors[0].rank
    let a = ShapeUtil.normalize(axis: axis, rank: rank, op: "concat")
    for t in tensors {
        precondition(t.rank == rank && (0..<rank).allSatisfy { $0 == a || t.shape[$0] == tensors[0].shape[$0] },
                     "concat: shape \(t.shape) does not match \(tensors[0].shape) outside axis \(a)")
    }
    var outShape = tensors[0].shape
    outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
    let inner = outShape[(a + 1)...].reduce(1, *), outer = outShape[..<a].reduce(1, *)
    let total = outShape[a]
    let out = Tensor(shape: outShape) { dst in
        var start = 0
        for t in tensors {
            let n = t.shape[a]
            t.withUnsafeBufferPointer { src in
                for o in 0..<outer {
                    let d = (o * total + start) * inner, s = o * n * inner
                    for j in 0..<(n * inner) { dst[d + j] = src[s + j] }
                }
            }
            start += n
        }
    }
    let sizes = tensors.map { $0.shape[a] }
    return recordOp(.concat, inputs: tensors, output: out) { g in
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return g.slice(axis: a, start: start, end: start + n)
        }
    }
}

/// Copies `src` into `out` with `src`'s origin at `offset` in `out` (negative offsets crop `src`),
/// clipping to `out`'s bounds.
func copyRegion(from src: Tensor, into out: inout Tensor, offset: [Int]) {
    let rank = src.rank
    guard rank > 0 else { out = src.detached(); return }
    let dst = out
    let lo = (0..<rank).map { Swift.max(0, -offset[$0]) }
    let hi = (0..<rank).map { Swift.min(src.shape[$0], dst.shape[$0] - offset[$0]) }
    guard (0..<rank).allSatisfy({ lo[$0] < hi[$0] }) else { return }
    let ss = ShapeUtil.strides(src.shape), ds = ShapeUtil.strides(dst.shape)
    let rowLength = hi[rank - 1] - lo[rank - 1]
    out.withUnsafeMutableBufferPointer { d in
        src.withUnsafeBufferPointer { s in
            var index = lo
            while true {
                var so = 0, doff = 0
                for k in 0..<rank { so += index[k] * ss[k]; doff += (index[k] + offset[k]) * ds[k] }
                for j in 0..<rowLength { d[doff + j] = s[so + j] }
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < hi[axis] { break }
                    index[axis] = lo[axis]
                    axis -= 1
                }
                if axis < 0 { break }
            }
        }
    }
}
