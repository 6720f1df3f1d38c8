/// Captures module outputs by path during a forward pass (captum's `LayerActivation`, lucent's
/// `hook_model`). When a tape records, each captured tensor is retained on it, so the gradient with
/// respect to the layer output is available too (GradCAM).
///
/// A module called more than once in one forward (a ResNet block's shared `relu`) is captured at
/// every call: `path` names the last call, as a PyTorch forward hook leaves it, and `path@k` the k-th
/// (1-based).
///
/// ``calls`` logs the stored calls in the order they complete, which is what RDR needs to find "the
/// first activation after a layer": module paths alone do not say that `features.29` runs after
/// `features.27`, or that `layer3.0.relu@1` is the first activation after `layer2` of a ResNet.
public final class ActivationCapture {
    /// Requested paths without any `@k` suffix; empty with `all` set captures every module.
    let paths: Set<String>
    let all: Bool
    private(set) var outputs: [String: [Tensor]] = [:]

    /// Every call this capture stored, in completion order (a module after its children), with the
    /// module's type name (`"ReLU"`, `"Conv2d"`). With ``capturingAllActivations(_:)`` that is every
    /// module call of the last top-level forward; a new top-level forward starts a new log.
    public private(set) var calls: [(path: String, call: Int, typeName: String)] = []

    init(paths: [String], all: Bool) {
        self.paths = Set(paths.map { ActivationCapture.split($0).path })
        self.all = all
    }

    func wants(_ path: String) -> Bool { all || paths.contains(path) }

    /// A top-level module call begins: the call log restarts, as outputs are overwritten.
    func beginForward() { calls.removeAll(keepingCapacity: true) }

    func store(path: String, call: Int, typeName: String, output: Tensor) {
        calls.append((path, call, typeName))
        var list = outputs[path] ?? []
        if call == 1 { list = [] }  // a new top-level forward overwrites, as PyTorch hooks do
        list.append(output)
        outputs[path] = list
    }

    /// Splits `"layer1.0.relu@2"` into the path and the 1-based call (nil = last call).
    static func split(_ name: String) -> (path: String, call: Int?) {
        guard let at = name.lastIndex(of: "@"), let k = Int(name[name.index(after: at)...]) else { return (name, nil) }
        return (String(name[..<at]), k)
    }

    /// The captured output for `path` (last call) or `path@k` (k-th call); nil if not captured.
    public subscript(_ name: String) -> Tensor? {
        let (path, call) = ActivationCapture.split(name)
        guard let list = outputs[path], !list.isEmpty else { return nil }
        guard let k = call else { return list.last }
        return k >= 1 && k <= list.count ? list[k - 1] : nil
    }

    /// How many times `path` was called in the last forward.
    public func callCount(_ path: String) -> Int { outputs[path]?.count ?? 0 }

    /// Every captured path, in first-call order is not guaranteed; sorted for stable listings.
    public var capturedPaths: [String] { outputs.keys.sorted() }
}

/// Runs `body` capturing the outputs of the modules at `paths` (dotted state-dict paths, optionally
/// `@k`). Returns the body's result and the capture.
///
/// ```swift
/// let (logits, acts) = capturingActivations(["layer3"]) { model(x) }
/// let feature = acts["layer3"]!
/// ```
public func capturingActivations<T>(_ paths: [String], _ body: () throws -> T) rethrows -> (T, ActivationCapture) {
    try capturing(ActivationCapture(paths: paths, all: false), body)
}

/// Runs `body` capturing the output of every module call.
public func capturingAllActivations<T>(_ body: () throws -> T) rethrows -> (T, ActivationCapture) {
    try capturing(ActivationCapture(paths: [], all: true), body)
}

private func capturing<T>(_ capture: ActivationCapture, _ body: () throws -> T) rethrows -> (T, ActivationCapture) {
    let context = ExecutionContext.current
    context.captures.append(capture)
    defer { context.captures.removeAll { $0 === capture } }
    return (try body(), capture)
}
