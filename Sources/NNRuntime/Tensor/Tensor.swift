/// An n-dimensional array of `Float`, row-major and contiguous, with PyTorch's layouts: NCHW
/// activations, OIHW convolution weights, `[out, in]` linear weights.
///
/// `Tensor` is a value: operations return new tensors and copy-on-write keeps shared storage
/// invisible. While a ``GradientTape`` records, a tensor that depends on a watched tensor carries a
/// trace (its node on the tape), so gradients can flow back to it.
///
/// ```swift
/// let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let y = (x * 2 + 1).sum(axes: [1])    // [2]: [15, 33]
/// ```
public struct Tensor: @unchecked Sendable {
    /// The dimensions, outermost first. `[]` is a scalar.
    public let shape: [Int]
    @usableFromInline internal var storage: TensorStorage
    /// The node that produced this tensor on the recording tape, if any.
    @usableFromInline internal var trace: Trace?

    /// Wraps an existing storage; `storage.count` must equal the shape's element count.
    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(ShapeUtil.count(shape) == storage.count,
                     "Tensor: shape \(shape) needs \(ShapeUtil.count(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.trace = nil
    }

    /// A tensor with the given values in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(ShapeUtil.count(shape) == scalars.count,
                     "Tensor: shape \(shape) needs \(ShapeUtil.count(shape)) values, got \(scalars.count)")
        let s = TensorStorage(uninitializedCount: scalars.count)
        scalars.withUnsafeBufferPointer { s.pointer.update(from: $0.baseAddress!, count: scalars.count) }
        self.init(shape: shape, storage: s)
    }

    /// A 1-D tensor of the given values.
    public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A scalar (rank-0) tensor.
    public init(_ scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    /// A tensor whose values are computed by `body` into an uninitialised buffer of the shape's size.
    @inlinable
    public init(shape: [Int], initializer body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let s = TensorStorage(uninitializedCount: ShapeUtil.count(shape))
        body(UnsafeMutableBufferPointer(start: s.pointer, count: s.count))
        self.init(shape: shape, storage: s)
    }

    // MARK: - Properties

    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }
    /// Number of elements.
    @inlinable public var count: Int { storage.count }
    /// All values in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The only value of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements, expected 1")
        return storage.pointer[0]
    }

    /// Read access to the values.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Write access to the values; copies first if the storage is shared. Drops the trace: an
    /// in-place change is not differentiable.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        trace = nil
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// The value at a multi-index.
    public subscript(index indices: Int...) -> Float {
        get { storage.pointer[flatIndex(indices)] }
        set {
            let i = flatIndex(indices)
            withUnsafeMutableBufferPointer { $0[i] = newValue }
        }
    }

    private func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "Tensor: \(indices.count) indices for a rank-\(rank) tensor")
        var flat = 0
        for (axis, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[axis], "Tensor: index \(i) out of range for axis \(axis) of \(shape)")
            flat = flat * shape[axis] + i
        }
        return flat
    }

    /// Whether a gradient can flow to this tensor (it is watched or computed from something watched).
    /// VJPs use it to skip gradients nobody asked for, such as a frozen layer's weight gradient.
    @inlinable public var requiresGradient: Bool { trace != nil }

    /// The same values with no trace: gradients do not flow through the result (PyTorch `detach`).
    public func detached() -> Tensor {
        var t = self
        t.trace = nil
        return t
    }

    /// A copy with storage of its own.
    public func copied() -> Tensor {
        var t = Tensor(shape: shape, storage: storage.copy())
        t.trace = nil
        return t
    }
}

// MARK: - Creation

extension Tensor {
    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(count: ShapeUtil.count(shape), repeating: value))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    public static func zeros(like t: Tensor) -> Tensor { zeros(t.shape) }
    public static func ones(like t: Tensor) -> Tensor { ones(t.shape) }

    /// `[start, start + step, ...)` below `end` (PyTorch `arange`).
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "Tensor.arange: step must be non-zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n]) { buf in for i in 0..<n { buf[i] = start + Float(i) * step } }
    }

    /// Standard normal values times `std` plus `mean`, from a seeded generator.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1,
                             using generator: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape) { buf in for i in buf.indices { buf[i] = mean + std * generator.nextNormal() } }
    }

    /// Uniform values in `[low, high)` from a seeded generator.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               using generator: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape) { buf in
            for i in buf.indices { buf[i] = low + (high - low) * generator.nextUniform() }
        }
    }

    /// Kaiming-uniform initialisation as PyTorch's `Conv2d`/`Linear` default
    /// (`kaiming_uniform_(a=√5)`, i.e. bound = 1/√fanIn).
    public static func kaimingUniform(_ shape: [Int], fanIn: Int, using generator: inout SeededGenerator) -> Tensor {
        let bound = 1 / Float(Swift.max(fanIn, 1)).squareRoot()
        return uniform(shape, low: -bound, high: bound, using: &generator)
    }
}

// MARK: - Printing

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}

import Foundation
