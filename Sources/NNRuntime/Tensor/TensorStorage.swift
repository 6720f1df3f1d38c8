import Foundation

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
        pointer = BufferPool.shared.take(bytes: max(count, 1) * MemoryLayout<Float>.stride)
            .bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates `count` floats set to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit { BufferPool.shared.give(UnsafeMutableRawPointer(pointer), bytes: max(count, 1) * MemoryLayout<Float>.stride) }

    /// A new storage holding the same values.
    public func copy() -> TensorStorage {
        let result = TensorStorage(uninitializedCount: count)
        result.pointer.update(from: pointer, count: count)
        return result
    }
}

/// `count` uninitialised floats of scratch for `body`, from the buffer pool: a kernel's large
/// temporaries (im2col columns, Winograd's transformed tiles) are reused across calls instead of
/// being page-faulted in afresh.
@inline(__always)
func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    let storage = TensorStorage(uninitializedCount: count)
    return try withExtendedLifetime(storage) { try body(storage.pointer) }
}

/// Recycles large buffers by exact size.
///
/// Every forward and backward pass allocates the same activation shapes again; buffers above the C
/// allocator's mmap threshold would otherwise be returned to the kernel and page-faulted in afresh
/// on every step, which costs more than the arithmetic of a cheap op. Small buffers go straight to
/// the allocator. The pool keeps at most `limit` bytes: a quarter of the machine's memory, at most
/// 4 GiB, enough for the activations of a batch-16 MobileNetV2 or ResNet pass and its gradients.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    /// Below this, malloc's own free lists are fast enough.
    let minimumBytes = 1 << 16
    let limit = Int(Swift.min(ProcessInfo.processInfo.physicalMemory / 4, 4 << 30))
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private var lock = pthread_mutex_t()

    init() { pthread_mutex_init(&lock, nil) }

    func take(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= minimumBytes {
            pthread_mutex_lock(&lock)
            if let p = free[bytes]?.popLast() {
                cachedBytes -= bytes
                pthread_mutex_unlock(&lock)
                return p
            }
            pthread_mutex_unlock(&lock)
        }
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    func give(_ p: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= minimumBytes {
            pthread_mutex_lock(&lock)
            if cachedBytes + bytes <= limit {
                free[bytes, default: []].append(p)
                cachedBytes += bytes
                pthread_mutex_unlock(&lock)
                return
            }
            pthread_mutex_unlock(&lock)
        }
        p.deallocate()
    }

    /// Returns every cached buffer to the system (e.g. before a memory-hungry stage).
    func drain() {
        pthread_mutex_lock(&lock)
        for (_, list) in free { for p in list { p.deallocate() } }
        free.removeAll()
        cachedBytes = 0
        pthread_mutex_unlock(&lock)
    }
}
