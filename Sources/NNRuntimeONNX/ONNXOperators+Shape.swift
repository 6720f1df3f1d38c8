import NNRuntime

/// Layout operators and the integer shape arithmetic exporters emit around them (`Shape` →
/// `Gather` → `Unsqueeze` → `Concat` → `Reshape`). Float data keeps its VJPs; integer data is
/// computed directly.
extension ONNXOperators {
    static let shapeKernels: [String: ONNXKernel] = [
        "Flatten": { c in
            let x = try c.value(0)
            let a = x.shape.isEmpty ? 0 : try c.axis(c.int("axis", 1), rank: x.shape.count + 1)
            let rows = x.shape[..<a].reduce(1, *)
            return [try reshape(x, to: [rows, x.shape[a...].reduce(1, *)], c)]
        },
        "Reshape": { c in
            let x = try c.value(0)
            var dims = try c.ints(1)
            if c.int("allowzero", 0) == 0 {
                for (i, d) in dims.enumerated() where d == 0 {
                    guard i < x.shape.count else { throw c.error("shape \(dims) copies axis \(i), which \(x.shape) lacks") }
                    dims[i] = x.shape[i]
                }
            }
            if let b = c.batch, dims.first == 1, x.shape.first == b { dims[0] = b }
            let count = x.shape.reduce(1, *)
            if let i = dims.firstIndex(of: -1) {
                let known = dims.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
                guard known > 0, count % known == 0 else { throw c.error("cannot reshape \(x.shape) to \(dims)") }
                dims[i] = count / known
            }
            return [try reshape(x, to: dims, c)]
        },
        "Transpose": { c in
            let x = try c.value(0)
            let perm = c.ints("perm") ?? Array(x.shape.indices.reversed())
            guard perm.sorted() == Array(x.shape.indices) else { throw c.error("perm \(perm) is not a permutation of \(x.shape.count) axes") }
            switch x {
            case .float(let t): return [.float(t.permuted(perm))]
            case .int(let t): return [.int(t.permuted(perm))]
            }
        },
        "Squeeze": { c in
            let x = try c.value(0)
            let given = c.opset >= 13 ? (c.optional(1) == nil ? nil : try c.ints(1)) : c.ints("axes")
            let axes = try Set((given ?? x.shape.indices.filter { x.shape[$0] == 1 }).map { try c.axis($0, rank: x.shape.count) })
            guard axes.allSatisfy({ x.shape[$0] == 1 }) else { throw c.error("cannot squeeze axes \(axes.sorted()) of \(x.shape)") }
            return [try reshape(x, to: x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] }, c)]
        },
        "Unsqueeze": { c in
            let x = try c.value(0)
            let axes = c.opset >= 13 ? try c.ints(1) : (c.ints("axes") ?? [])
            let rank = x.shape.count + axes.count
            var shape = x.shape
            for a in try axes.map({ try c.axis($0, rank: rank) }).sorted() { shape.insert(1, at: a) }
            return [try reshape(x, to: shape, c)]
        },
        "Concat": { c in
            let parts = (0..<c.inputCount).compactMap { c.optional($0) }
            guard let first = parts.first else { throw c.error("has no inputs") }
            let a = try c.axis(c.int("axis", 0), rank: first.shape.count)
            for p in parts where p.shape.count != first.shape.count
                || p.shape.enumerated().contains(where: { $0.offset != a && $0.element != first.shape[$0.offset] }) {
                throw c.error("input shapes \(parts.map(\.shape)) differ off axis \(a)")
            }
            if parts.allSatisfy({ !$0.isFloat }) && a == 0 && first.shape.count == 1 {
                return [.int(IntTensor(parts.flatMap { $0.asInt.ints }))]
            }
            return [.float(concat(parts.map(\.asFloat), axis: a))]
        },
        "Split": { c in
            let x = try c.float(0)
            let a = try c.axis(c.int("axis", 0), rank: x.rank)
            let n = x.shape[a], outputs = c.node.outputs.count
            var sizes = c.opset >= 13 ? (c.optional(1) == nil ? nil : try c.ints(1)) : c.ints("split")
            if sizes == nil {
                let parts = c.opset >= 18 ? c.int("num_outputs", outputs) : outputs
                let chunk = (n + parts - 1) / parts
                sizes = (0..<parts).map { min(chunk, max(n - $0 * chunk, 0)) }
            }
            guard let sizes, sizes.count == outputs, sizes.reduce(0, +) == n, sizes.allSatisfy({ $0 >= 0 }) else {
                throw c.error("split sizes \(sizes ?? []) do not cover axis \(a) of \(x.shape) in \(outputs) parts")
            }
            var start = 0
            return sizes.map { size in
                defer { start += size }
                return .float(x.slice(axis: a, start: start, end: start + size))
            }
        },
        "Slice": slice,
        "Pad": pad,
        "Shape": { c in
            let shape = try c.value(0).shape
            let clampIndex = { (i: Int) in min(max(i < 0 ? i + shape.count : i, 0), shape.count) }
            let lo = clampIndex(c.int("start", 0)), hi = clampIndex(c.int("end", shape.count))
            return [.int(IntTensor(Array(shape[lo..<max(lo, hi)])))]
        },
        "Gather": gather,
        "Constant": { c in
            if let t = c.attribute("value") {
                var decoder = ONNXTensorDecoder(baseDirectory: nil)
                return [try decoder.decode(t.t, what: "constant of node '\(c.node.name)'")]
            }
            if let f = c.attribute("value_float") { return [.float(Tensor(f.f))] }
            if let f = c.attribute("value_floats") { return [.float(Tensor(f.floats))] }
            if let i = c.attribute("value_int") { return [.int(IntTensor(shape: [], values: [i.i]))] }
            if let i = c.attribute("value_ints") { return [.int(IntTensor(shape: [i.ints.count], values: i.ints))] }
            throw c.error("has no value attribute interp reads (value, value_float(s), value_int(s))")
        },
        "ConstantOfShape": { c in
            let shape = try c.ints(0)
            guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) < 1 << 32 else { throw c.error("invalid shape \(shape)") }
            var decoder = ONNXTensorDecoder(baseDirectory: nil)
            let fill = try c.attribute("value").map { try decoder.decode($0.t, what: "value of node '\(c.node.name)'") } ?? .float(Tensor(0))
            switch fill {
            case .float(let t): return [.float(Tensor(repeating: t.scalars.first ?? 0, shape: shape))]
            case .int(let t): return [.int(IntTensor(shape: shape, values: [Int64](repeating: t.values.first ?? 0, count: shape.reduce(1, *))))]
            }
        },
        "Range": { c in
            let (start, limit, delta) = (try c.value(0), try c.value(1), try c.value(2))
            if !start.isFloat && !limit.isFloat && !delta.isFloat {
                let (a, b, d) = (start.asInt.values[0], limit.asInt.values[0], delta.asInt.values[0])
                guard d != 0 else { throw c.error("delta is 0") }
                let n = max(Int((b - a + d - (d > 0 ? 1 : -1)) / d), 0)
                guard n < 1 << 32 else { throw c.error("range of \(n) values is too long") }
                return [.int(IntTensor(shape: [n], values: (0..<n).map { a + Int64($0) * d }))]
            }
            let (a, b, d) = (start.asFloat.scalars[0], limit.asFloat.scalars[0], delta.asFloat.scalars[0])
            guard d != 0, d.isFinite, a.isFinite, b.isFinite else { throw c.error("invalid range \(a)..<\(b) by \(d)") }
            let n = max(Int(((b - a) / d).rounded(.up)), 0)
            guard n < 1 << 32 else { throw c.error("range of \(n) values is too long") }
            return [.float(Tensor((0..<n).map { a + Float($0) * d }))]
        },
        "Expand": { c in
            let x = try c.value(0)
            let shape = try broadcastShape(x.shape, try c.ints(1), c)
            switch x {
            case .float(let t): return [.float(t.broadcast(to: shape))]
            case .int(let t): return [.int(broadcastInts(t, IntTensor(shape: [], values: [0]), to: shape) { a, _ in a })]
            }
        },
    ]

    /// The same values with a new shape, for floats (on the tape) and integers.
    static func reshape(_ x: ONNXValue, to shape: [Int], _ c: ONNXCall) throws -> ONNXValue {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == x.shape.reduce(1, *) else {
            throw c.error("cannot reshape \(x.shape) to \(shape)")
        }
        switch x {
        case .float(let t): return .float(t.reshaped(shape))
        case .int(let t): return .int(IntTensor(shape: shape, values: t.values))
        }
    }

    /// `Slice` (opset ≥ 10: starts, ends, axes, steps as inputs). Negative steps walk backwards and
    /// run as an index selection.
    static func slice(_ c: ONNXCall) throws -> [ONNXValue] {
        let x = try c.value(0)
        let starts = try c.ints(1), ends = try c.ints(2)
        let axes = try c.optional(3).map { _ in try c.ints(3) } ?? Array(starts.indices)
        let steps = try c.optional(4).map { _ in try c.ints(4) } ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw c.error("starts, ends, axes and steps differ in length")
        }
        var value = x
        for k in starts.indices {
            let a = try c.axis(axes[k], rank: x.shape.count), n = value.shape[a], step = steps[k]
            guard step != 0 else { throw c.error("step 0 on axis \(a)") }
            // ONNX clamps starts and ends to [0, n] for positive steps and to [−1, n − 1] for negative ones.
            func clampIndex(_ i: Int, _ lo: Int, _ hi: Int) -> Int { min(max(i < 0 ? i + n : i, lo), hi) }
            let indices = step > 0
                ? Array(stride(from: clampIndex(starts[k], 0, n), to: clampIndex(ends[k], 0, n), by: step))
                : Array(stride(from: clampIndex(starts[k], -1, n - 1), to: clampIndex(ends[k], -1, n - 1), by: step))
            switch value {
            case .float(let t):
                if step > 0, let first = indices.first {
                    value = .float(t.slice(axis: a, start: first, end: indices.last! + 1, step: step))
                } else {
                    value = .float(t.indexSelect(axis: a, indices: indices))
                }
            case .int(let t):
                value = .int(t.indexSelect(axis: a, indices: indices))
            }
        }
        return [value]
    }

    /// `Pad` in constant mode; pads are `[x1_begin, x2_begin, …, x1_end, x2_end, …]`.
    static func pad(_ c: ONNXCall) throws -> [ONNXValue] {
        let x = try c.float(0)
        let mode = c.string("mode", "constant")
        guard mode == "constant" else { throw c.error("mode '\(mode)' is not supported (constant only)") }
        let pads = try c.ints(1)
        let axes = try (c.optional(3).map { _ in try c.ints(3) } ?? Array(x.shape.indices)).map { try c.axis($0, rank: x.rank) }
        guard pads.count == 2 * axes.count else { throw c.error("pads \(pads) do not give two values for each of \(axes.count) axes") }
        var perAxis = [(Int, Int)](repeating: (0, 0), count: x.rank)
        for (k, a) in axes.enumerated() { perAxis[a] = (pads[k], pads[k + axes.count]) }
        for (a, p) in perAxis.enumerated() where x.shape[a] + p.0 + p.1 < 0 {
            throw c.error("pads \(pads) crop more than axis \(a) of \(x.shape) holds")
        }
        return [.float(x.padded(Array(perAxis.reversed()), value: try c.scalar(2) ?? 0))]
    }

    /// `Gather` along `axis`: output shape `data[..<axis] + indices + data[(axis+1)...]`.
    static func gather(_ c: ONNXCall) throws -> [ONNXValue] {
        let data = try c.value(0), indices = try c.value(1).asInt
        let a = try c.axis(c.int("axis", 0), rank: data.shape.count)
        let n = data.shape[a]
        let picks = try indices.ints.map { i -> Int in
            guard i >= -n && i < n else { throw c.error("index \(i) is out of range for axis \(a) of size \(n)") }
            return i < 0 ? i + n : i
        }
        let shape = Array(data.shape[..<a]) + indices.shape + Array(data.shape[(a + 1)...])
        switch data {
        case .int(let t):
            let picked = t.indexSelect(axis: a, indices: picks)
            return [.int(IntTensor(shape: shape, values: picked.values))]
        case .float(let t):
            return [.float(t.indexSelect(axis: a, indices: picks).reshaped(shape))]
        }
    }
}
