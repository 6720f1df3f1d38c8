import Foundation

/// Per-thread state that ops and modules consult: the recording tape, whether gradients are enabled,
/// the stack of modules being called, and active activation captures.
///
/// Thread-local so that a data-loading thread running transforms never records onto the tape of the
/// training thread.
final class ExecutionContext {
    var tapes: [GradientTape] = []
    var gradientsEnabled = true
    var moduleStack: [ModuleFrame] = []
    var captures: [ActivationCapture] = []
    /// Calls per module path within the current top-level forward (for `path@k`).
    var callCounts: [String: Int] = [:]

    /// The tape ops record onto now, or nil.
    @inline(__always) var recordingTape: GradientTape? { gradientsEnabled ? tapes.last : nil }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<ExecutionContext>.fromOpaque(pointer).release()
        }
        return key
    }()

    /// The calling thread's context, created on first use.
    static var current: ExecutionContext {
        if let p = pthread_getspecific(key) {
            return Unmanaged<ExecutionContext>.fromOpaque(p).takeUnretainedValue()
        }
        let context = ExecutionContext()
        pthread_setspecific(key, Unmanaged.passRetained(context).toOpaque())
        return context
    }
}

/// A module call in progress: the module, its dotted path and which call of that path it is.
public struct ModuleFrame {
    public let module: Module
    public let path: String
    /// 1-based index of this call of `path` within the current top-level forward.
    public let call: Int
    /// The type name of the module (`"ReLU"`, `"Conv2d"`), which backward rules match on.
    public var typeName: String { module.typeName }
}

/// Runs `body` with gradient recording switched off (PyTorch `torch.no_grad()`): no op records onto
/// any tape, so inference allocates no tape nodes.
public func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
    let context = ExecutionContext.current
    let saved = context.gradientsEnabled
    context.gradientsEnabled = false
    defer { context.gradientsEnabled = saved }
    return try body()
}

/// Whether an op called now would record onto a tape.
public var isRecordingGradients: Bool { ExecutionContext.current.recordingTape != nil }
