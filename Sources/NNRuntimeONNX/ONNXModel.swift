import NNRuntime

/// An imported ONNX graph as a module tree, so every method addresses, captures and differentiates
/// it exactly as it does a zoo model.
///
/// Where the exporter kept PyTorch's module scopes (TorchScript node names
/// `/features/features.18/features.18.2/Clip`, or the dynamo exporter's
/// `pkg.torch.onnx.name_scopes`), each scope becomes a module at its original path (`features.18`),
/// whose output is that of its last node — what a forward hook on the PyTorch module returns. A
/// scope with one node is that node; a scope with several holds one leaf per node, named by the
/// node (`features.1.conv.Add`). Without scopes, every node is a top-level leaf named after the
/// node. Node and tensor names resolve too (``LayerAliasing``), and the trunk — what an integer
/// `--layer` indexes — is every computing node in topological order.
///
/// Leaves report PyTorch type names (`Conv2d`, `ReLU`, `ReLU6`, `BatchNorm2d`, `Linear`), so
/// guided backprop's rules and RDR's activation search apply unchanged. A node's float initializers
/// are its module's frozen parameters, named by their role (`weight`, `bias`, `running_mean`,
/// `running_var` for Conv, Gemm and BatchNormalization, `input1`… otherwise), so an unfused
/// PyTorch export lists its original state-dict keys.
public final class ONNXModel: Module, TrunkModel, LayerAliasing {
    let executor: ONNXExecutor
    private var children: [(String, Module)] = []
    private var steps: [ONNXStep] = []
    public private(set) var trunk: [String] = []
    private var aliases: [String: String] = [:]
    private var namesByPath: [String: [String]] = [:]
    /// The graph's opset and producer, for listings.
    public var opset: Int { executor.graph.opset }
    public var producer: String { executor.graph.producer }
    public var inputShape: [Int?] { executor.graph.inputShape }
    /// False when a graph exported with a fixed batch of 1 must run batches one sample at a time.
    public var runsWholeBatches: Bool { !executor.chunksSamples }
    /// The first output's shape for the checking input (`[1, classes]` for a classifier).
    public private(set) var outputShape: [Int] = []
    /// The last module whose output is a spatial map `[N, C, H, W]` with H·W > 1: GradCAM's default.
    public private(set) var gradCAMLayer: String?

    /// Builds the module tree for `graph`, checking it by running one blank input of `inputShape`
    /// (`[1, C, H, W]`): any node that cannot run fails here, as one error naming the node.
    public init(graph: ONNXGraph, inputShape: [Int]) throws {
        executor = try ONNXExecutor(graph: graph)
        super.init()
        let shapes = try preflight(inputShape)
        executor.checkBatching(inputShape)
        try buildTree(kinds: shapes.mapValues { $0 != nil })
        gradCAMLayer = executor.liveNodes.reversed().first { i in
            guard let s = shapes[i] ?? nil, s.count == 4, s[2] * s[3] > 1 else { return false }
            return aliases[executor.graph.nodes[i].name] != nil
        }.flatMap { aliases[executor.graph.nodes[$0].name] }
        eval()
    }

    public override var namedChildren: [(String, Module)] { children }

    public override func forward(_ x: Tensor) -> Tensor {
        do {
            executor.begin(x)
            for step in steps { try step.run(executor) }
            return try executor.finish()
        } catch {
            preconditionFailure("ONNX graph failed on input \(x.shape): \(error)")
        }
    }

    public func layerPath(forAlias alias: String) -> String? { aliases[alias] }

    public func aliases(of path: String) -> [String] { namesByPath[path] ?? [] }

    /// Runs the graph once without modules; returns the shape of each live node's first output
    /// when it is a float tensor.
    private func preflight(_ shape: [Int]) throws -> [Int: [Int]?] {
        var shapes: [Int: [Int]?] = [:]
        try withoutGradients {
            executor.begin(.zeros(shape))
            for i in executor.liveNodes { shapes[i] = try executor.execute(i)?.shape }
            outputShape = try executor.finish().shape
        }
        return shapes
    }

    // MARK: - Module tree

    private func buildTree(kinds: [Int: Bool]) throws {
        let nodes = executor.graph.nodes
        let visible = executor.liveNodes.filter { kinds[$0] == true }
        // A scope with exactly one visible node and no inner scopes is that node.
        var nodeCount: [[String]: Int] = [:], hasInner: Set<[String]> = []
        for i in visible {
            let s = nodes[i].scopes
            nodeCount[s, default: 0] += 1
            for depth in 0..<s.count { hasInner.insert(Array(s[..<depth])) }
        }
        var shared: [String: Parameter] = [:]
        func parameters(of node: ONNXNode) -> [(String, Parameter)] {
            let roles: [String] = switch node.opType {
            case "Conv", "Gemm": ["input", "weight", "bias"]
            case "BatchNormalization": ["input", "weight", "bias", "running_mean", "running_var"]
            default: []
            }
            return node.inputs.enumerated().compactMap { k, name in
                guard k > 0, case .float(let t)? = executor.initializers[name] else { return nil }
                let p = shared[name] ?? Parameter(t, isBuffer: node.opType == "BatchNormalization" && k >= 3)
                p.requiresGradient = false
                shared[name] = p
                return (k < roles.count ? roles[k] : "input\(k)", p)
            }
        }
        let root = ONNXScopeBuilder(scopes: [], path: "", module: nil)
        var stack = [root], finished: Set<[String]> = []
        var leafPaths: [Int: String] = [:]
        var contiguous = true
        for i in executor.liveNodes {
            let node = nodes[i]
            guard kinds[i] == true else { stack.last!.steps.append(.hidden(i)); continue }
            var scopes = node.scopes
            let isLeafScope = !scopes.isEmpty && nodeCount[scopes] == 1 && !hasInner.contains(scopes)
            let leafName = isLeafScope ? ONNXScopeBuilder.childName(scopes.removeLast(), parent: scopes.last)
                                       : node.leafName.replacingOccurrences(of: ".", with: "_")
            while !(stack.last!.scopes.count <= scopes.count && Array(scopes[..<stack.last!.scopes.count]) == stack.last!.scopes) {
                finished.insert(stack.removeLast().scopes)
            }
            while stack.last!.scopes.count < scopes.count {
                let parent = stack.last!
                let inner = Array(scopes[..<(parent.scopes.count + 1)])
                if finished.contains(inner) { contiguous = false }
                let depth = inner.count - 1
                let scope = ONNXScope(executor: executor, type: depth < node.scopeTypes.count ? node.scopeTypes[depth] : "Module")
                let name = parent.add(scope, named: ONNXScopeBuilder.childName(inner.last!, parent: parent.scopes.last))
                parent.steps.append(.module(scope))
                stack.append(ONNXScopeBuilder(scopes: inner, path: parent.childPath(name), module: scope))
            }
            let leaf = ONNXNodeModule(node: i, executor: executor, type: ONNXOperators.moduleType(node, constants: executor.graph.constants),
                                      parameters: parameters(of: node))
            let name = stack.last!.add(leaf, named: leafName)
            stack.last!.steps.append(.module(leaf))
            leafPaths[i] = stack.last!.childPath(name)
        }
        if !contiguous {
            // A scope re-entered after it closed cannot be one module call; fall back to a flat tree.
            root.reset()
            leafPaths = [:]
            for i in executor.liveNodes {
                guard kinds[i] == true else { root.steps.append(.hidden(i)); continue }
                let leaf = ONNXNodeModule(node: i, executor: executor, type: ONNXOperators.moduleType(nodes[i], constants: executor.graph.constants),
                                          parameters: parameters(of: nodes[i]))
                leafPaths[i] = root.add(leaf, named: nodes[i].name.replacingOccurrences(of: ".", with: "_"))
                root.steps.append(.module(leaf))
            }
        }
        children = root.children
        steps = root.steps
        trunk = visible.compactMap { leafPaths[$0] }
        for i in visible {
            guard let path = leafPaths[i] else { continue }
            aliases[nodes[i].name] = path
            for output in nodes[i].outputs { aliases[output] = path }
            namesByPath[path] = nodes[i].outputs + [nodes[i].name]
        }
    }
}

/// One step of a scope's forward: a module call (captured and tagged on the tape) or a node that
/// only computes integers (shape arithmetic), run without a module.
enum ONNXStep {
    case module(Module)
    case hidden(Int)

    func run(_ executor: ONNXExecutor) throws {
        switch self {
        case .module(let m):
            if let scope = m as? ONNXScope { try scope.run() } else if let leaf = m as? ONNXNodeModule { try leaf.run() }
        case .hidden(let i): _ = try executor.execute(i)
        }
    }
}

/// A PyTorch module scope of an exported graph: its output is its last node's.
final class ONNXScope: Module {
    unowned let executor: ONNXExecutor
    var children: [(String, Module)] = []
    var steps: [ONNXStep] = []
    private var failure: Error?

    private let type: String

    init(executor: ONNXExecutor, type: String) { (self.executor, self.type) = (executor, type) }

    override var namedChildren: [(String, Module)] { children }
    override var typeName: String { type }

    func run() throws {
        _ = withScope {
            var last = Tensor(0)
            for step in steps {
                do {
                    try step.run(executor)
                    if case .module(let m) = step { last = (m as? ONNXNodeModule)?.lastOutput ?? (m as? ONNXScope)?.lastOutput ?? last }
                } catch { failure = error; break }
            }
            lastOutput = last
            return last
        }
        if let failure { self.failure = nil; throw failure }
    }

    var lastOutput: Tensor?
}

/// One graph node as a module, typed like the PyTorch module it was exported from.
final class ONNXNodeModule: Module {
    let node: Int
    unowned let executor: ONNXExecutor
    private let type: String
    var lastOutput: Tensor?
    private var failure: Error?

    private let parameters: [(String, Parameter)]

    init(node: Int, executor: ONNXExecutor, type: String, parameters: [(String, Parameter)]) {
        (self.node, self.executor, self.type, self.parameters) = (node, executor, type, parameters)
    }

    override var typeName: String { type }
    override var namedLocalParameters: [(String, Parameter)] { parameters }
    override var extraDescription: String { executor.graph.nodes[node].opType }

    func run() throws {
        lastOutput = withScope {
            do { return try executor.execute(node) ?? Tensor(0) } catch { failure = error; return Tensor(0) }
        }
        if let failure { self.failure = nil; throw failure }
    }
}

/// Collects a scope's children while the tree is built, keeping names unique.
final class ONNXScopeBuilder {
    /// The exporter's scope names down to this one, and the dotted module path they become.
    let scopes: [String]
    let path: String
    let module: ONNXScope?
    var children: [(String, Module)] = []
    var steps: [ONNXStep] = [] {
        didSet { module?.steps = steps }
    }

    init(scopes: [String], path: String, module: ONNXScope?) { (self.scopes, self.path, self.module) = (scopes, path, module) }

    /// A scope's name relative to its parent: PyTorch scopes are full paths, so `features.18`
    /// under `features` is `18`. Other names are kept whole, with dots replaced so that paths
    /// stay unambiguous.
    static func childName(_ scope: String, parent: String?) -> String {
        if let parent, scope.hasPrefix(parent + "."), scope.count > parent.count + 1 {
            return String(scope.dropFirst(parent.count + 1))
        }
        return scope.replacingOccurrences(of: ".", with: "_")
    }

    /// The path of a child called `name` of this scope.
    func childPath(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// Adds `child` under a unique name derived from `name`; returns the name used.
    @discardableResult
    func add(_ child: Module, named name: String) -> String {
        var unique = name, k = 2
        while children.contains(where: { $0.0 == unique }) { unique = "\(name)_\(k)"; k += 1 }
        children.append((unique, child))
        module?.children = children
        return unique
    }

    func reset() {
        children = []
        steps = []
    }
}
