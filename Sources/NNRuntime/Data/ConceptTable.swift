import Foundation

/// Binary concept labels per image: the `image,<concept>,…` CSV that `interp datasets shapes` writes
/// and INVERT's reference stores as a label matrix (one 0/1 column per atomic concept). DORA's
/// artifact probes and INVERT's formulas read it.
///
/// ```text
/// image,circle,cross,…,watermark
/// test/circle/00012.png,1,0,…,1
/// ```
public struct ConceptTable: Sendable {
    /// Concept names in column order.
    public let concepts: [String]
    /// Image paths as written in the file (relative to the file's folder, or absolute).
    public let images: [String]
    /// `labels[i][j]`: image `i` shows concept `j`.
    public let labels: [[Bool]]
    /// The folder relative paths are resolved against.
    public let base: URL
    private let rowByPath: [String: Int]

    public init(concepts: [String], images: [String], labels: [[Bool]], base: URL) {
        self.concepts = concepts
        self.images = images
        self.labels = labels
        self.base = base
        var rows: [String: Int] = [:]
        for (i, p) in images.enumerated() { rows[Self.key(p, base: base)] = i }
        rowByPath = rows
    }

    /// Reads a concept CSV. Every failure is a one-line `DatasetError` naming the line and what was expected.
    public static func read(contentsOf url: URL) throws -> ConceptTable {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DatasetError("cannot read concept file \(url.path): \(error.localizedDescription)")
        }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        guard let header = lines.first else { throw DatasetError("concept file \(url.path) is empty; expected a header 'image,<concept>,…'") }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard names.count >= 2, names[0].lowercased() == "image" || names[0].lowercased() == "image_name" else {
            throw DatasetError("concept file \(url.path): header must be 'image,<concept>,…', got '\(header.prefix(60))'")
        }
        let concepts = Array(names.dropFirst())
        if let dup = Dictionary(grouping: concepts, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw DatasetError("concept file \(url.path): concept '\(dup)' appears twice in the header")
        }
        var images: [String] = [], labels: [[Bool]] = []
        for (n, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == names.count else {
                throw DatasetError("concept file \(url.path) line \(n + 2): \(cells.count) fields, expected \(names.count) (image + \(concepts.count) concepts)")
            }
            let row = try cells.dropFirst().map { cell -> Bool in
                switch cell {
                case "1", "true", "True": return true
                case "0", "false", "False": return false
                default: throw DatasetError("concept file \(url.path) line \(n + 2): '\(cell)' is not 0 or 1")
                }
            }
            images.append(cells[0])
            labels.append(row)
        }
        guard !images.isEmpty else { throw DatasetError("concept file \(url.path) has a header but no rows") }
        return ConceptTable(concepts: concepts, images: images, labels: labels, base: url.deletingLastPathComponent())
    }

    /// The column of a concept, or an error listing what the file has.
    public func column(named name: String) throws -> Int {
        guard let j = concepts.firstIndex(of: name) else {
            let shown = concepts.prefix(12).joined(separator: ", ") + (concepts.count > 12 ? ", …" : "")
            throw DatasetError("concept '\(name)' is not in the concept file; it has: \(shown)")
        }
        return j
    }

    /// The row of an image file, matched by its standardised absolute path.
    public func row(for url: URL) -> Int? { rowByPath[url.standardizedFileURL.path] }

    /// The labels of `concept` for `files`, or an error naming the first file the table lacks.
    public func labels(of concept: String, for files: [URL]) throws -> [Bool] {
        let j = try column(named: concept)
        return try files.map { url in
            guard let i = row(for: url) else { throw DatasetError("image \(url.path) has no row in the concept file") }
            return labels[i][j]
        }
    }

    private static func key(_ path: String, base: URL) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        return url.standardizedFileURL.path
    }
}
