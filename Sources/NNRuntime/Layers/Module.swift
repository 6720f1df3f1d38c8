/// A trainable tensor (or a buffer such as BatchNorm's running mean) owned by a module.
///
/// A reference type, so that optimisers, weight loading and the tape all see the same value.
public final class Parameter {
    public var value: Tensor
    /// False for buffers (running statistics) and frozen weights: no gradient is recorded.
    public var requiresGradient: Bool
    /// True for buffers: part of the state dict, never trained.
    public let isBuffer: Bool
    /// The state-dict name when it differs from the Swift property name (`running_mean`).
    public let key: String?

    public init(_ value: Tensor, isBuffer: Bool = false, key: String? = nil) {
        self.value = value
        self.isBuffer = isBuffer
        self.requiresGradient = !isBuffer
        self.key = key
    }
}

/// The base of every layer and model: named children and parameters that produce PyTorch's dotted
/// state-dict paths (`features.18.0.weight`), train/eval mode, and a call that tags every op with the
/// module path so hooks and backward rules can find it.
///
/// Children and parameters are found by reflection over stored properties (a `Module`, `Module?`,
/// `[Module]`, `Parameter` or `Parameter?`), named by the property name (arrays as `name.0`,
/// `name.1`, …) or by `Parameter.key`; subclasses override ``namedChildren`` or
/// ``namedLocalParameters`` when the PyTorch name is not a Swift property. The structure is read once
/// per instance and cached: build the module tree in `init` and mutate only parameter values after.
open class Module {
    /// Training mode (batch statistics in BatchNorm, active Dropout). Set with ``train(_:)``.
    public private(set) var isTraining = true

    private var cachedChildren: [(String, Module)]?
    private var cachedParameters: [(String, Parameter)]?

    public init() {}

    /// The computation of this module. Call the module (`callAsFunction`) rather than this, so that
    /// hooks see the call.
    open func forward(_ x: Tensor) -> Tensor {
        fatalError("\(typeName) does not implement forward(_:)")
    }

    /// Runs ``forward(_:)`` inside this module's scope: ops record the module path, and active
    /// activation captures receive the output.
    public final func callAsFunction(_ x: Tensor) -> Tensor {
        withScope { forward(x) }
    }

    /// Runs `body` as a call of this module, for modules whose call signature is not unary.
    public final func withScope(_ body: () -> Tensor) -> Tensor {
        let context = ExecutionContext.current
        let path: String
        if let parent = context.moduleStack.last {
            let name = parent.module.childName(of: self) ?? typeName
            path = parent.path.isEmpty ? name : parent.path + "." + name
        } else {
            path = ""
            context.callCounts.removeAll(keepingCapacity: true)
            for capture in context.captures { capture.beginForward() }
        }
        let call = (context.callCounts[path] ?? 0) + 1
        context.callCounts[path] = call
        context.moduleStack.append(ModuleFrame(module: self, path: path, call: call))
        let output = body()
        context.moduleStack.removeLast()
        for capture in context.captures where capture.wants(path) {
            capture.store(path: path, call: call, typeName: typeName, output: output)
            context.recordingTape?.retain(output)
        }
        return output
    }

    /// The module's type name, which backward rules match on (`"ReLU"`, `"Conv2d"`).
    open var typeName: String { String(describing: type(of: self)) }

    // MARK: - Structure

    /// Direct children with their names, in declaration order.
    open var namedChildren: [(String, Module)] {
        if let c = cachedChildren { return c }
        var result: [(String, Module)] = []
        forEachProperty { label, value in
            if let m = value as? Module {
                result.append((label, m))
            } else if let list = value as? [Module] {
                for (i, m) in list.enumerated() { result.append(("\(label).\(i)", m)) }
            }
        }
        cachedChildren = result
        return result
    }

    /// Parameters and buffers owned directly by this module (not its children).
    open var namedLocalParameters: [(String, Parameter)] {
        if let c = cachedParameters { return c }
        var result: [(String, Parameter)] = []
        forEachProperty { label, value in
            if let p = value as? Parameter { result.append((p.key ?? label, p)) }
        }
        cachedParameters = result
        return result
    }

    private func forEachProperty(_ body: (String, Any) -> Void) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror { mirrors.append(m); mirror = m.superclassMirror }
        for m in mirrors.reversed() {
            for child in m.children {
                guard var label = child.label, let value = unwrapOptional(child.value) else { continue }
                let lazyPrefix = "$__lazy_storage_$_"
                if label.hasPrefix(lazyPrefix) { label = String(label.dropFirst(lazyPrefix.count)) }
                body(label, value)
            }
        }
    }

    func childName(of child: Module) -> String? {
        namedChildren.first { $0.1 === child }?.0
    }

    /// Every module in the tree with its dotted path, root first (path `""`), depth first.
    public func namedModules() -> [(String, Module)] {
        var result: [(String, Module)] = [("", self)]
        for (name, child) in namedChildren {
            for (sub, m) in child.namedModules() {
                result.append((sub.isEmpty ? name : name + "." + sub, m))
            }
        }
        return result
    }

    /// Every parameter and buffer with its state-dict path.
    public func namedParameters() -> [(String, Parameter)] {
        var result: [(String, Parameter)] = []
        for (path, module) in namedModules() {
            for (name, p) in module.namedLocalParameters {
                result.append((path.isEmpty ? name : path + "." + name, p))
            }
        }
        return result
    }

    /// Trainable parameters only.
    public func trainableParameters() -> [Parameter] {
        namedParameters().map(\.1).filter { $0.requiresGradient }
    }

    /// Switches this module and every descendant to training (`true`) or evaluation mode.
    public func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = on }
    }

    /// Evaluation mode (PyTorch `model.eval()`).
    public func eval() { train(false) }

    /// Stops gradients for every parameter (weights stay fixed during DORA's signal optimisation).
    public func freeze() { for (_, p) in namedParameters() { p.requiresGradient = false } }

    /// Extra configuration shown by ``description`` (`"3, 64, kernelSize: 3"`).
    open var extraDescription: String { "" }
}

private func unwrapOptional(_ value: Any) -> Any? {
    let mirror = Mirror(reflecting: value)
    guard mirror.displayStyle == .optional else { return value }
    return mirror.children.first.map { unwrapOptional($0.value) } ?? nil
}

extension Module: CustomStringConvertible {
    /// A PyTorch-like tree of the module and its children.
    public var description: String { describe(indent: 0) }

    private func describe(indent: Int) -> String {
        let head = typeName + "(" + extraDescription
        let children = namedChildren
        if children.isEmpty { return head + ")" }
        let pad = String(repeating: "  ", count: indent + 1)
        let body = children.map { "\(pad)(\($0.0)): \($0.1.describe(indent: indent + 1))" }.joined(separator: "\n")
        return head + "\n" + body + "\n" + String(repeating: "  ", count: indent) + ")"
    }
}
