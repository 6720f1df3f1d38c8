import NNRuntime

/// An integer tensor of an ONNX graph: shapes, axes, indices, pads. These never carry gradients, so
/// they live beside ``Tensor`` rather than in it; graphs compute them from `Shape` to feed
/// `Reshape`, `Slice` or `Expand`.
public struct IntTensor: Equatable, Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let values: [Int64]

    public init(shape: [Int], values: [Int64]) {
        precondition(shape.reduce(1, *) == values.count, "IntTensor: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    /// A 1-D tensor of `values`.
    public init(_ values: [Int]) { self.init(shape: [values.count], values: values.map(Int64.init)) }

    public var count: Int { values.count }

    /// Entries `indices` along `axis` (as ``Tensor/indexSelect(axis:indices:)``).
    public func indexSelect(axis: Int, indices: [Int]) -> IntTensor {
        let n = shape[axis], outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var out: [Int64] = []
        out.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for i in indices { out.append(contentsOf: values[((o * n + i) * inner)..<((o * n + i + 1) * inner)]) }
        }
        var newShape = shape
        newShape[axis] = indices.count
        return IntTensor(shape: newShape, values: out)
    }

    /// Axes reordered: result axis `i` is axis `perm[i]`.
    public func permuted(_ perm: [Int]) -> IntTensor {
        let newShape = perm.map { shape[$0] }
        var strides = [Int](repeating: 1, count: shape.count)
        for a in stride(from: shape.count - 2, through: 0, by: -1) { strides[a] = strides[a + 1] * shape[a + 1] }
        var out = [Int64](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: shape.count)
        for flat in 0..<values.count {
            var rest = flat
            for a in stride(from: newShape.count - 1, through: 0, by: -1) { index[a] = rest % newShape[a]; rest /= newShape[a] }
            out[flat] = values[zip(perm, index).map { strides[$0] * $1 }.reduce(0, +)]
        }
        return IntTensor(shape: newShape, values: out)
    }
    public var ints: [Int] { values.map { Int($0) } }
    public var description: String { "IntTensor(\(shape), \(values.prefix(8))\(values.count > 8 ? "…" : ""))" }
}

/// A value flowing along an edge of an ONNX graph: float data on the tape, or integers.
///
/// Every floating type (float16, bfloat16, double) is computed in float32, the runtime's one float
/// type; every integer and boolean type is held as `Int64`.
public enum ONNXValue: CustomStringConvertible {
    case float(Tensor)
    case int(IntTensor)

    public var shape: [Int] {
        switch self {
        case .float(let t): return t.shape
        case .int(let t): return t.shape
        }
    }

    public var isFloat: Bool { if case .float = self { return true } else { return false } }

    /// The value as floats (integers converted, as ONNX `Cast` to float does).
    public var asFloat: Tensor {
        switch self {
        case .float(let t): return t
        case .int(let t): return Tensor(shape: t.shape, scalars: t.values.map { Float($0) })
        }
    }

    /// The value as integers (floats truncated toward zero, as ONNX `Cast` to int64 does).
    public var asInt: IntTensor {
        switch self {
        case .int(let t): return t
        case .float(let t): return IntTensor(shape: t.shape, values: t.scalars.map { $0.isFinite ? Int64($0) : 0 })
        }
    }

    public var description: String {
        switch self {
        case .float(let t): return "float\(t.shape)"
        case .int(let t): return "int\(t.shape)"
        }
    }
}
