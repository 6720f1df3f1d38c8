import Foundation

/// A concept's readable name and gloss, from the JSON sidecar of a concept file.
public struct ConceptDescription: Sendable, Equatable {
    public var name: String
    public var description: String
    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
}

extension ConceptTable {
    /// Opens concept labels in any of the layouts INVERT users have:
    ///
    /// - a CSV `image,<concept>,…` of 0/1 (what `interp datasets shapes` writes), its rows matched to
    ///   the data by image path or file name;
    /// - the original INVERT layout, an N×m 0/1 `.npy` label matrix whose rows follow the data's order,
    ///   with concept names from a description JSON keyed `"0"`, `"1"`, … (or `c0`, `c1`, … without one).
    ///
    /// `descriptions` is a JSON object keyed by concept column (CSV header name or column index),
    /// each value `{"name": …, "description"|"definition": …}`; when absent, a `.json` file with the
    /// label file's stem beside it is used if it exists.
    public static func load(contentsOf url: URL, descriptions: URL? = nil) throws -> ConceptTable {
        let sidecar = descriptions ?? {
            let candidate = url.deletingPathExtension().appendingPathExtension("json")
            return FileManager.default.fileExists(atPath: candidate.path) ? candidate : nil
        }()
        let glossary = try sidecar.map { try readDescriptions(contentsOf: $0) } ?? [:]
        var table: ConceptTable
        switch url.pathExtension.lowercased() {
        case "npy":
            table = try readMatrix(contentsOf: url, glossary: glossary)
        case "csv", "txt":
            table = try read(contentsOf: url)
        default:
            throw DatasetError("concept file \(url.path): expected a .csv (image,<concept>,…) or an N×m 0/1 .npy label matrix")
        }
        for (j, column) in table.concepts.enumerated() {
            if let d = glossary[column] ?? glossary[String(j)] { table.descriptions[column] = d }
        }
        return table
    }

    /// The concept's readable name (the description's `name`, else the column name).
    public func displayName(_ column: Int) -> String {
        descriptions[concepts[column]]?.name ?? concepts[column]
    }

    /// An N×m label matrix (bool, integer or float holding only 0 and 1), rows in the data's order.
    static func readMatrix(contentsOf url: URL, glossary: [String: ConceptDescription]) throws -> ConceptTable {
        let m: Tensor
        do { m = try NPY.read(contentsOf: url) } catch {
            throw DatasetError("concept matrix \(url.path): \(error)")
        }
        guard m.rank == 2, m.shape[0] > 0, m.shape[1] > 0 else {
            throw DatasetError("concept matrix \(url.path) has shape \(m.shape); expected N×m (one row per image, one 0/1 column per concept)")
        }
        let (n, k) = (m.shape[0], m.shape[1])
        let values = m.scalars
        if let bad = values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw DatasetError("concept matrix \(url.path): value \(values[bad]) at row \(bad / k), column \(bad % k) is not 0 or 1")
        }
        let labels = (0..<n).map { i in (0..<k).map { values[i * k + $0] == 1 } }
        let names = (0..<k).map { j in glossary[String(j)]?.name ?? "c\(j)" }
        if let dup = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw DatasetError("concept descriptions for \(url.lastPathComponent) name '\(dup)' twice; concept names must be unique")
        }
        var table = ConceptTable(concepts: names, images: [], labels: labels, base: url.deletingLastPathComponent())
        for (j, name) in names.enumerated() { table.descriptions[name] = glossary[String(j)] }
        return table
    }

    /// `{"<column>": {"name": …, "description" or "definition": …}, …}`.
    static func readDescriptions(contentsOf url: URL) throws -> [String: ConceptDescription] {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) } catch {
            throw DatasetError("concept descriptions \(url.path) are not readable JSON: \(error.localizedDescription)")
        }
        guard let entries = object as? [String: Any] else {
            throw DatasetError("concept descriptions \(url.path): expected an object keyed by concept column")
        }
        var out: [String: ConceptDescription] = [:]
        for (key, value) in entries {
            guard let entry = value as? [String: Any] else {
                throw DatasetError("concept descriptions \(url.path): entry '\(key)' is not an object with \"name\" and \"description\"")
            }
            let name = (entry["name"] as? String) ?? key
            let gloss = (entry["description"] as? String) ?? (entry["definition"] as? String) ?? ""
            out[key] = ConceptDescription(name: name, description: gloss)
        }
        return out
    }
}
