/// A 64-byte aligned buffer of `Float` shared by tensors.
///
/// Tensors are values; several may share one storage after a reshape, and copy-on-write keeps that
/// invisible. Alignment matters for the SIMD loops and for OpenBLAS.
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` floats; the contents are undefined.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates `count` floats set to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// A new storage holding the same values.
    public func copy() -> TensorStorage {
        let result = TensorStorage(uninitializedCount: count)
        result.pointer.update(from: pointer, count: count)
        return result
    }
}
