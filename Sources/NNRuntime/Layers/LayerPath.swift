/// Layer addressing shared by every command: a dotted module path (`features.27`), lucent's
/// underscore form (`features_27`), `path@k` for the k-th call of a module called more than once, or
/// an integer index into the model's trunk.

/// A resolved layer: the module path and, for repeated calls, which call.
public struct LayerPath: Equatable, Sendable, CustomStringConvertible {
    public let path: String
    /// 1-based call index; nil means the last call (what a PyTorch hook sees).
    public let call: Int?

    public init(path: String, call: Int? = nil) {
        self.path = path
        self.call = call
    }

    /// The name to look up in an ``ActivationCapture`` (`path` or `path@k`).
    public var captureName: String { call.map { "\(path)@\($0)" } ?? path }
    public var description: String { captureName }
}

/// Why a `--layer` value does not name a layer of the model; lists valid choices.
public struct LayerPathError: Error, CustomStringConvertible {
    public let description: String
}

/// A model whose layers also answer to other names: an imported ONNX graph's node and tensor
/// names (`/features/features.18/features.18.2/Clip_output_0`) besides its module paths.
public protocol LayerAliasing {
    /// The module path that `alias` names, if any.
    func layerPath(forAlias alias: String) -> String?
    /// The other names of the module at `path` (for an ONNX node: its output tensors, then the node).
    func aliases(of path: String) -> [String]
}

extension Module {
    /// Resolves a user-given layer name against this module tree.
    ///
    /// - Parameter trunk: the model's trunk stages, for integer indices.
    /// - Throws: ``LayerPathError`` naming the value and listing valid paths.
    public func resolveLayer(_ spec: String, trunk: [String] = []) throws -> LayerPath {
        let (name, call) = ActivationCapture.split(spec)
        if spec.contains("@") && call == nil {
            throw LayerPathError(description: "layer '\(spec)': expected PATH@K with K a call number ≥ 1")
        }
        if let k = call, k < 1 {
            throw LayerPathError(description: "layer '\(spec)': call numbers start at 1")
        }
        let paths = namedModules().map(\.0).filter { !$0.isEmpty }
        if let index = Int(name) , !paths.contains(name) {
            guard trunk.indices.contains(index) else {
                throw LayerPathError(description: "layer index \(index) is outside the trunk 0...\(trunk.count - 1) (\(trunk.prefix(4).joined(separator: ", "))\(trunk.count > 4 ? ", …" : ""))")
            }
            return LayerPath(path: trunk[index], call: call)
        }
        if paths.contains(name) { return LayerPath(path: name, call: call) }
        if let alias = (self as? LayerAliasing)?.layerPath(forAlias: name) { return LayerPath(path: alias, call: call) }
        // lucent joins path components with "_"; module names may themselves contain "_", so match
        // by comparing with every path's underscore form.
        let underscored = paths.filter { $0.replacingOccurrences(of: ".", with: "_") == name }
        if underscored.count == 1 { return LayerPath(path: underscored[0], call: call) }
        let close = paths.filter { $0.hasPrefix(name.split(separator: ".").first.map(String.init) ?? name) }.prefix(6)
        let hint = close.isEmpty ? paths.prefix(6) : close
        throw LayerPathError(description: "unknown layer '\(spec)'; valid paths include \(hint.joined(separator: ", "))\(paths.count > hint.count ? ", … (`interp layers` lists all \(paths.count))" : "")")
    }
}
