/// Where a tensor sits on a tape: the tape's identity and the node index.
@usableFromInline
struct Trace: Sendable {
    let tapeID: Int
    let index: Int
}

/// What a backward rule sees of a recorded node.
public struct NodeContext {
    public let op: OpKind
    /// The innermost module whose forward recorded the node, if any.
    public let module: ModuleFrame?
    /// The op's inputs and output as they were in the forward pass.
    public let inputs: [Tensor]
    public let output: Tensor
}

/// A recorded op: which nodes fed it and how to map the output's gradient to its inputs' gradients.
struct Node {
    let op: OpKind
    let inputIndices: [Int]          // -1 for inputs that are not on this tape
    let outputShape: [Int]
    let context: NodeContext?        // nil for leaves
    let pullback: ((Tensor) -> [Tensor?])?
}

/// A Wengert list: while ``record(_:)`` runs, every op whose inputs depend on a watched tensor or
/// parameter appends a node with its pullback; ``gradient(of:seed:)`` walks the list backwards.
///
/// Nodes carry the op kind and the module path that produced them, which is what lets
/// interpretability code read the gradient at any layer (GradCAM) and swap a module type's backward
/// rule (guided backprop) — the reason interp uses a tape rather than compiler autodiff.
///
/// ```swift
/// let tape = GradientTape(rules: [.guidedBackprop])
/// let x = tape.watch(image)
/// let logits = tape.record { model(x) }
/// let saliency = tape.gradient(of: logits[0, 3])[x]
/// ```
public final class GradientTape {
    private static let counter = IDCounter()
    let id: Int
    /// Backward rules that replace the pullback of matching nodes.
    public let rules: [BackwardRule]
    var nodes: [Node] = []
    private var retained: Set<Int> = []
    private(set) var parameterIndex: [ObjectIdentifier: Int] = [:]
    private var watchedParameters: [Parameter] = []

    public init(rules: [BackwardRule] = []) {
        self.rules = rules
        id = GradientTape.counter.next()
    }

    /// Number of recorded nodes (leaves included).
    public var nodeCount: Int { nodes.count }

    /// Makes `x` a leaf of this tape; differentiate with respect to the returned tensor.
    public func watch(_ x: Tensor) -> Tensor {
        var t = x
        t.trace = Trace(tapeID: id, index: appendLeaf(shape: x.shape))
        return t
    }

    /// Makes every trainable parameter of `module` a leaf of this tape until the next ``record(_:)``
    /// ends, so their gradients are available after it.
    public func watch(_ module: Module) {
        for (_, p) in module.namedParameters() where p.requiresGradient {
            let key = ObjectIdentifier(p)
            let index = parameterIndex[key] ?? appendLeaf(shape: p.value.shape)
            parameterIndex[key] = index
            p.value.trace = Trace(tapeID: id, index: index)
            watchedParameters.append(p)
        }
    }

    private func appendLeaf(shape: [Int]) -> Int {
        nodes.append(Node(op: .leaf, inputIndices: [], outputShape: shape, context: nil, pullback: nil))
        retained.insert(nodes.count - 1)
        return nodes.count - 1
    }

    /// Runs `body` with this tape recording. Watched parameters stop being traced when it returns.
    public func record<T>(_ body: () throws -> T) rethrows -> T {
        let context = ExecutionContext.current
        context.tapes.append(self)
        defer {
            context.tapes.removeLast()
            for p in watchedParameters { p.value.trace = nil }
            watchedParameters.removeAll()
        }
        return try body()
    }

    /// Keeps the gradient with respect to `x` (a tensor recorded on this tape) in the result of
    /// ``gradient(of:seed:)``; activation captures do this automatically.
    public func retain(_ x: Tensor) {
        guard x.trace != nil else { return }
        if let t = x.trace, t.tapeID == id { retained.insert(t.index) }
    }

    /// Appends a node for an op; used by ``recordOp(_:inputs:output:pullback:)``.
    func append(_ op: OpKind, inputs: [Tensor], indices: [Int], output: Tensor,
                module: ModuleFrame?, pullback: @escaping (Tensor) -> [Tensor?]) -> Trace {
        let ctx = NodeContext(op: op, module: module, inputs: inputs, output: output.detached())
        nodes.append(Node(op: op, inputIndices: indices, outputShape: output.shape, context: ctx, pullback: pullback))
        return Trace(tapeID: id, index: nodes.count - 1)
    }

    /// Back-propagates from `y`. Without `seed`, `y` must hold one element and its gradient is 1.
    /// `y` must have been computed inside ``record(_:)`` from a watched tensor or parameter.
    ///
    /// Nodes after `y` are ignored; every node before it is visited once, in reverse order, so each
    /// gradient is complete (all consumers summed) before it is propagated further.
    public func gradient(of y: Tensor, seed: Tensor? = nil) -> Gradients {
        guard let trace = y.trace, trace.tapeID == id else {
            // Like PyTorch, differentiating something the tape never saw is a usage error; it is
            // almost always an output computed outside `record { }`.
            preconditionFailure("GradientTape.gradient: the output was not recorded on this tape or does not depend on any watched tensor; compute it inside record { }")
        }
        let start = seed ?? {
            precondition(y.count == 1, "GradientTape.gradient: output of shape \(y.shape) is not a scalar; pass a seed")
            return Tensor(repeating: 1, shape: y.shape)
        }()
        precondition(start.shape == y.shape, "GradientTape.gradient: seed shape \(start.shape) != output shape \(y.shape)")
        var grads = [Tensor?](repeating: nil, count: trace.index + 1)
        grads[trace.index] = start.detached()
        var kept: [Int: Tensor] = [:]
        withoutGradients {
            for i in stride(from: trace.index, through: 0, by: -1) {
                guard let g = grads[i] else { continue }
                if retained.contains(i) { kept[i] = g }
                grads[i] = nil
                let node = nodes[i]
                guard let pullback = node.pullback, let ctx = node.context else { continue }
                let inputGrads: [Tensor?]
                if let rule = rules.first(where: { $0.matches(ctx) }) {
                    inputGrads = rule.pullback(ctx, g)
                } else {
                    inputGrads = pullback(g)
                }
                for (j, source) in node.inputIndices.enumerated() where source >= 0 {
                    guard j < inputGrads.count, let gi = inputGrads[j] else { continue }
                    precondition(gi.shape == nodes[source].outputShape,
                                 "GradientTape: \(node.op) gave a gradient of shape \(gi.shape) for an input of shape \(nodes[source].outputShape)")
                    grads[source] = grads[source].map { $0 + gi } ?? gi
                }
            }
        }
        return Gradients(tapeID: id, values: kept, parameterIndex: parameterIndex)
    }
}

/// Whether `y` is on tape `tape` (false when it does not depend on anything the tape watched).
func isTraced(_ y: Tensor, on tape: GradientTape) -> Bool { y.trace?.tapeID == tape.id }

/// The gradients computed by one backward pass, looked up by the tensor or parameter they belong to.
public struct Gradients {
    let tapeID: Int
    /// No gradients: the output did not depend on anything watched, so every gradient is zero.
    static func none(tape: GradientTape) -> Gradients {
        Gradients(tapeID: tape.id, values: [:], parameterIndex: tape.parameterIndex)
    }
    let values: [Int: Tensor]
    let parameterIndex: [ObjectIdentifier: Int]

    /// The gradient with respect to a watched or retained tensor; zeros of its shape when the output
    /// does not depend on it, nil when it was neither watched nor retained on this tape.
    public subscript(_ x: Tensor) -> Tensor? {
        guard let t = x.trace, t.tapeID == tapeID else { return nil }
        return values[t.index] ?? Tensor.zeros(x.shape)
    }

    /// The gradient with respect to a watched parameter (zeros when the output does not use it).
    public subscript(_ p: Parameter) -> Tensor? {
        guard let index = parameterIndex[ObjectIdentifier(p)] else { return nil }
        return values[index] ?? Tensor.zeros(p.value.shape)
    }
}

/// Records an op's result on the current tape when any input is traced there; otherwise returns the
/// output untouched. Every op calls this right after computing its forward, with its VJP.
///
/// - Parameter pullback: maps the gradient of `output` to one gradient per input (nil = none).
@inline(__always)
public func recordOp(_ op: OpKind, inputs: [Tensor], output: Tensor,
                     pullback: @escaping (Tensor) -> [Tensor?]) -> Tensor {
    let context = ExecutionContext.current
    guard let tape = context.recordingTape else { return output }
    var any = false
    let indices = inputs.map { t -> Int in
        if let tr = t.trace, tr.tapeID == tape.id { any = true; return tr.index }
        return -1
    }
    guard any else { return output }
    var result = output
    result.trace = tape.append(op, inputs: inputs, indices: indices, output: output,
                               module: context.moduleStack.last, pullback: pullback)
    return result
}

/// Thread-safe counter for tape identities.
final class IDCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

import Foundation
