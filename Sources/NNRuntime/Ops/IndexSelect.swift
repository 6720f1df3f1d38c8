/// Selection of entries along one axis by index (PyTorch `index_select`), with repeats allowed:
/// ONNX `Gather`, reversed slices and strided views reduce to it.

extension Tensor {
    /// The entries `indices` (each in `0..<shape[axis]`, repeats allowed) along `axis`: the result's
    /// `axis` has `indices.count` entries. The VJP adds each output slice's gradient back into the
    /// input slice it came from (`index_add`), so repeated indices accumulate.
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        let a = ShapeUtil.normalize(axis: axis, rank: rank, op: "indexSelect")
        precondition(indices.allSatisfy { $0 >= 0 && $0 < shape[a] }, "indexSelect: indices must lie in 0..<\(shape[a])")
        return selecting(axis: a, indices: indices, op: .indexSelect)
    }

    /// The selection behind ``indexSelect(axis:indices:)`` and ``slice(axis:start:end:step:)``,
    /// recorded as `op`; `axis` is normalised and `indices` are in range.
    func selecting(axis a: Int, indices: [Int], op: OpKind) -> Tensor {
        let n = shape[a]
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        var outShape = shape
        outShape[a] = indices.count
        let k = indices.count
        let out = Tensor(shape: outShape) { dst in
            withUnsafeBufferPointer { src in
                for o in 0..<outer {
                    for (j, i) in indices.enumerated() {
                        let from = (o * n + i) * inner, to = (o * k + j) * inner
                        for e in 0..<inner { dst[to + e] = src[from + e] }
                    }
                }
            }
        }
        let inShape = shape
        return recordOp(op, inputs: [self], output: out) { g in
            [Tensor(shape: inShape) { dst in
                dst.initialize(repeating: 0)
                g.withUnsafeBufferPointer { src in
                    for o in 0..<outer {
                        for (j, i) in indices.enumerated() {
                            let from = (o * k + j) * inner, to = (o * n + i) * inner
                            for e in 0..<inner { dst[to + e] += src[from + e] }
                        }
                    }
                }
            }]
        }
    }
}
