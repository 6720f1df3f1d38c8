/// A layer table for `interp layers`: every module call of one forward pass with its path, type,
/// output shape and parameter count, and the trunk index where a module is a trunk stage.

public struct LayerInfo: Sendable, Equatable {
    /// Trunk index, when this module is a trunk stage.
    public let trunkIndex: Int?
    /// Capture name: the path, with `@k` for repeated calls.
    public let name: String
    public let type: String
    public let outputShape: [Int]
    /// Parameters (not buffers) owned by the module and its children.
    public let parameterCount: Int
}

extension Module {
    /// Runs one forward pass on `input` (no gradients) and lists every module call in order.
    public func layerTable(input: Tensor, trunk: [String] = []) -> [LayerInfo] {
        var order: [(String, Int)] = []
        var seen: [String: Int] = [:]
        let (_, acts) = capturingAllActivations { () -> Tensor in
            withoutGradients { self(input) }
        }
        let modules = Dictionary(namedModules().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        // Order by path in module-tree order, then by call.
        for (path, _) in namedModules() where !path.isEmpty {
            let calls = acts.callCount(path)
            guard calls > 0, seen[path] == nil else { continue }
            seen[path] = calls
            for k in 1...calls { order.append((path, k)) }
        }
        return order.map { path, k in
            let m = modules[path]!
            let calls = seen[path]!
            let name = calls > 1 ? "\(path)@\(k)" : path
            return LayerInfo(trunkIndex: calls > 1 && k < calls ? nil : trunk.firstIndex(of: path), name: name,
                             type: m.typeName, outputShape: acts[name]?.shape ?? [],
                             parameterCount: m.namedParameters().filter { !$0.1.isBuffer }.reduce(0) { $0 + $1.1.value.count })
        }
    }
}
