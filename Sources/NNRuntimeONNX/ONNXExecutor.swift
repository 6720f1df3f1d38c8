import NNRuntime

/// Runs an ``ONNXGraph`` node by node on the runtime's ops, so a gradient tape records the whole
/// graph.
///
/// Values live in an environment keyed by tensor name and are dropped after their last reader, as
/// an inference engine frees buffers. A graph exported with a fixed batch of 1 (what the dynamo and
/// TorchScript exporters write unless told otherwise) still takes batches. Most such graphs compute
/// nothing batch-specific beyond a `Reshape` to `[1, …]` (read as `[B, …]`), and run whole batches
/// once ``checkBatching(_:)`` has seen a batch of two give the same results as its samples one by
/// one. The others are cut into single-sample chunks: each node runs once per chunk, and a node's float outputs are joined
/// along the batch axis and handed on as slices of that join — so a captured layer output is one
/// `[B, …]` tensor that every later node depends on, and its gradient is the real one.
final class ONNXExecutor {
    let graph: ONNXGraph
    /// The file's initializers (before folding added the constant nodes' values).
    let initializers: [String: ONNXValue]
    /// Node indices that depend on the input, in order (the others were folded into constants).
    let liveNodes: [Int]
    private let lastUse: [String: Int]
    private var environment: [String: [ONNXValue]] = [:]
    /// The graph's fixed batch size, or nil when the batch axis is symbolic.
    let fixedBatch: Int?
    /// True when batches are cut into single samples (a fixed batch of 1 that does not generalise).
    private(set) var chunksSamples: Bool

    /// Folds every node that does not depend on the input into constants (evaluated once, off the
    /// tape), and records when each remaining value is last read.
    init(graph: ONNXGraph) throws {
        initializers = graph.constants
        var graph = graph
        var dependent: Set<String> = [graph.inputName]
        var isFloat: [String: Bool] = [graph.inputName: true]
        var live: [Int] = []
        for node in graph.nodes {
            // CastLike reads only the element type of its second input, which is known statically.
            let valueInputs = node.opType == "CastLike" ? Array(node.inputs.prefix(1)) : node.inputs
            if valueInputs.contains(where: { dependent.contains($0) }) {
                dependent.formUnion(node.outputs)
                live.append(node.index)
                let floatOutput: Bool = switch node.opType {
                case "Shape": false
                case "Cast": ONNXOperators.castTo(type: node.attributes["to"].map { Int($0.i) } ?? 1, .float(Tensor(0))).isFloat
                case "CastLike": node.inputs.count > 1 ? isFloat[node.inputs[1]] ?? graph.constants[node.inputs[1]]?.isFloat ?? true : true
                default: node.inputs.first.flatMap { isFloat[$0] ?? graph.constants[$0]?.isFloat } ?? true
                }
                for output in node.outputs { isFloat[output] = floatOutput }
                continue
            }
            let inputs = node.inputs.enumerated().map { k, name -> ONNXValue? in
                if name.isEmpty { return nil }
                if let constant = graph.constants[name] { return constant }
                // CastLike's live type source: a one-element stand-in of the right type.
                return isFloat[name] == false ? .int(IntTensor([0])) : .float(Tensor([0]))
            }
            let outputs = try withoutGradients {
                try ONNXOperators.kernels[node.opType]!(ONNXCall(node: node, inputs: inputs, opset: graph.opset))
            }
            for (name, value) in zip(node.outputs, outputs) { graph.constants[name] = value }
        }
        var lastUse: [String: Int] = [:]
        for i in live { for name in graph.nodes[i].inputs where dependent.contains(name) { lastUse[name] = i } }
        for name in graph.outputNames { lastUse[name] = Int.max }
        self.graph = graph
        self.liveNodes = live
        self.lastUse = lastUse
        let batch = graph.inputShape.first ?? nil
        guard batch == nil || batch == 1 else {
            throw ONNXError("the model's input has a fixed batch of \(batch!); interp needs batch 1 or a symbolic batch (export with dynamic axes)")
        }
        fixedBatch = batch
        chunksSamples = batch == 1
    }

    /// For a graph with a fixed batch of 1: runs two different samples as one batch and one by one;
    /// when the results agree, batches run whole from then on.
    func checkBatching(_ sampleShape: [Int]) {
        guard fixedBatch == 1 else { return }
        var gen = SeededGenerator(seed: 17)
        let x = Tensor.randn([2] + sampleShape.dropFirst(), using: &gen)
        func run() -> Tensor? {
            withoutGradients {
                begin(x)
                do {
                    for i in liveNodes { _ = try execute(i) }
                    return try finish()
                } catch {
                    environment = [:]
                    return nil
                }
            }
        }
        let chunked = run()
        chunksSamples = false
        let whole = run()
        guard let chunked, let whole, chunked.shape == whole.shape, chunked.shape.first == 2 else { chunksSamples = true; return }
        let scale = max(1, chunked.scalars.map(Swift.abs).max() ?? 0)
        chunksSamples = zip(chunked.scalars, whole.scalars).contains { Swift.abs($0 - $1) > 1e-4 * scale }
    }

    /// Starts a forward pass on `x` (`[B, C, H, W]`).
    func begin(_ x: Tensor) {
        if chunksSamples && x.shape[0] > 1 {
            environment = [graph.inputName: (0..<x.shape[0]).map { .float(x.slice(axis: 0, start: $0, end: $0 + 1)) }]
        } else {
            environment = [graph.inputName: [.float(x)]]
        }
    }

    /// Runs node `index` on every chunk; returns its first output joined over chunks when it is a
    /// float tensor.
    func execute(_ index: Int) throws -> Tensor? {
        let node = graph.nodes[index]
        let chunks = environment[graph.inputName]?.count ?? environment.values.first?.count ?? 1
        var perChunk: [[ONNXValue]] = []
        for k in 0..<chunks {
            let inputs = node.inputs.map { name -> ONNXValue? in
                if name.isEmpty { return nil }
                if let values = environment[name] { return values[k] }
                return graph.constants[name]
            }
            var call = ONNXCall(node: node, inputs: inputs, opset: graph.opset)
            if fixedBatch == 1 && !chunksSamples, let b = inputs.first??.shape.first, b > 1 { call.batch = b }
            perChunk.append(try ONNXOperators.kernels[node.opType]!(call))
        }
        var first: Tensor?
        for (o, name) in node.outputs.enumerated() where o < perChunk[0].count {
            var values = perChunk.map { $0[o] }
            if chunks > 1, values.allSatisfy({ $0.isFloat && $0.shape.first == 1 }) {
                let joined = concat(values.map(\.asFloat), axis: 0)
                values = (0..<chunks).map { .float(joined.slice(axis: 0, start: $0, end: $0 + 1)) }
                if o == 0 { first = joined }
            } else if o == 0, case .float(let t) = values[0] {
                first = chunks == 1 ? t : concat(values.map(\.asFloat), axis: 0)
            }
            environment[name] = values
        }
        for name in Set(node.inputs) where lastUse[name] == index && name != graph.inputName {
            environment[name] = nil
        }
        return first
    }

    /// The graph's first output over the whole batch; ends the pass.
    func finish() throws -> Tensor {
        let name = graph.outputNames[0]
        defer { environment = [:] }
        if let values = environment[name] {
            guard values.allSatisfy(\.isFloat) else { throw ONNXError("graph output '\(name)' is not a float tensor") }
            return values.count == 1 ? values[0].asFloat : concat(values.map(\.asFloat), axis: 0)
        }
        if let constant = graph.constants[name] { return constant.asFloat }
        throw ONNXError("graph output '\(name)' was not computed")
    }
}
