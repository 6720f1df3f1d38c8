import Foundation

/// Work split across the machine's cores (``Threading/threadCount``), for kernels whose items
/// (planes, channels, samples, column blocks of a product) are independent and never write the
/// same memory. Regions do not nest: inside one, work runs on the calling worker.
enum Parallel {
    /// Marks the threads running a region's work (a thread-local flag, so that concurrent callers,
    /// such as tests running in parallel, never see each other's regions).
    private static let insideKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Workers a new region would use: one inside a region, else ``Threading/threadCount``.
    static var workerCount: Int { pthread_getspecific(insideKey) != nil ? 1 : Threading.threadCount }

    /// Runs one piece of a region's work with the flag set on the running thread.
    @inline(__always)
    private static func inside(_ body: () -> Void) {
        let previous = pthread_getspecific(insideKey)
        pthread_setspecific(insideKey, UnsafeRawPointer(bitPattern: 1))
        body()
        pthread_setspecific(insideKey, previous)
    }

    /// Runs `body(i)` for every `i` in `0..<count`, interleaved over the cores.
    @inline(__always)
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        let workers = Swift.min(workerCount, count)
        guard workers > 1 else { for i in 0..<count { body(i) }; return }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            inside {
                var i = w
                while i < count { body(i); i += workers }
            }
        }
    }

    /// Runs `body(range, worker)` over contiguous ranges of `0..<count`, one per core (at most
    /// `maxWorkers`, which callers that size per-worker buffers pass); returns the number of
    /// workers used.
    @discardableResult
    static func forEachRange(_ count: Int, maxWorkers: Int = .max, _ body: (Range<Int>, Int) -> Void) -> Int {
        let workers = Swift.max(1, Swift.min(workerCount, count, maxWorkers))
        guard workers > 1 else { body(0..<count, 0); return 1 }
        let size = (count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = w * size, hi = Swift.min(count, lo + size)
            if lo < hi { inside { body(lo..<hi, w) } }
        }
        return workers
    }
}

/// For one kernel tap along an axis: the output indices `o` whose input `o·stride + offset` lies in
/// `0..<size`, so that convolution and pooling loops run without a bounds test per element.
@inline(__always)
func validRange(outputs: Int, stride: Int, offset: Int, size: Int) -> Range<Int> {
    // o·stride + offset ≥ 0  ⇔  o ≥ ⌈−offset / stride⌉;  o·stride + offset < size  ⇔  o ≤ ⌊(size − 1 − offset) / stride⌋
    let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let last = size - 1 - offset
    let hi = last < 0 ? 0 : Swift.min(outputs, last / stride + 1)
    return lo < hi ? lo..<hi : 0..<0
}
