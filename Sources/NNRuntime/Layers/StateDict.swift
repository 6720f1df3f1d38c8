/// PyTorch-style state dicts: every parameter and buffer by dotted path, and strict loading that
/// names each missing key, unexpected key and shape mismatch.

/// Why a state dict did not load. The description is one line naming the keys.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    public var missing: [String] = []
    public var unexpected: [String] = []
    /// `(key, expected shape, found shape)`.
    public var shapeMismatches: [(String, [Int], [Int])] = []

    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty }

    public var description: String {
        var parts: [String] = []
        func list(_ keys: [String]) -> String {
            keys.prefix(8).joined(separator: ", ") + (keys.count > 8 ? ", … (\(keys.count) in all)" : "")
        }
        if !missing.isEmpty { parts.append("missing keys: \(list(missing))") }
        if !unexpected.isEmpty { parts.append("unexpected keys: \(list(unexpected))") }
        if !shapeMismatches.isEmpty {
            parts.append("shape mismatch: " + shapeMismatches.prefix(8)
                .map { "\($0.0) expects \($0.1) but the file has \($0.2)" }.joined(separator: "; "))
        }
        return "state dict does not match the model: " + parts.joined(separator: "; ")
    }

    public static func == (a: StateDictError, b: StateDictError) -> Bool { a.description == b.description }
}

extension Module {
    /// Every parameter and buffer value by state-dict path, in module order.
    public func stateDict() -> [(String, Tensor)] {
        namedParameters().map { ($0.0, $0.1.value.detached()) }
    }

    /// Loads values by state-dict path.
    ///
    /// - Parameter strict: when true (the default), any missing key, unexpected key or shape
    ///   mismatch throws a ``StateDictError`` and nothing is changed; when false, matching keys load
    ///   and the rest are returned in the error-shaped report (shape mismatches still throw).
    /// - Returns: the keys that were not used or not found (empty when strict succeeded).
    @discardableResult
    public func loadStateDict(_ values: [String: Tensor], strict: Bool = true) throws -> StateDictError {
        let params = namedParameters()
        var report = StateDictError()
        let known = Set(params.map(\.0))
        report.unexpected = values.keys.filter { !known.contains($0) }.sorted()
        for (key, p) in params {
            guard let v = values[key] else { report.missing.append(key); continue }
            if v.shape != p.value.shape {
                // A scalar buffer stored as [1] (or vice versa) is the same value.
                if v.count == 1 && p.value.count == 1 { continue }
                report.shapeMismatches.append((key, p.value.shape, v.shape))
            }
        }
        if !report.shapeMismatches.isEmpty || (strict && !report.isEmpty) { throw report }
        for (key, p) in params {
            guard let v = values[key] else { continue }
            p.value = v.shape == p.value.shape ? v.detached() : v.reshaped(p.value.shape).detached()
        }
        return report
    }
}
