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
    /// Readable names and descriptions by concept column, from an optional JSON sidecar.
    public var descriptions: [String: ConceptDescription] = [:]
    private let rowByPath: [String: Int]
    private let rowByName: [String: Int]
    /// Rows by file name; -1 where several rows share one.
    private let rowByFileName: [String: Int]

    /// A table whose rows name their images. With `images` empty the rows are matched to the data in
    /// order (the original INVERT layout, an N×m label matrix).
    public init(concepts: [String], images: [String], labels: [[Bool]], base: URL) {
        self.concepts = concepts
        self.images = images
        self.labels = labels
        self.base = base
        var byPath: [String: Int] = [:], byName: [String: Int] = [:], byFile: [String: Int] = [:]
        for (i, p) in images.enumerated() {
            byPath[Self.key(p, base: base)] = i
            byName[p] = i
            let file = (p as NSString).lastPathComponent
            byFile[file] = byFile[file] == nil ? i : -1
        }
        (rowByPath, rowByName, rowByFileName) = (byPath, byName, byFile)
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

    /// The row of an image: by its file's absolute path, then by its name as the data spells it (a
    /// path relative to the dataset root), then by file name when only one row has it.
    public func row(for url: URL?, name: String) -> Int? {
        if let url, let i = row(for: url) { return i }
        if let i = rowByName[name] { return i }
        if let i = rowByFileName[((url?.path ?? name) as NSString).lastPathComponent], i >= 0 { return i }
        return nil
    }

    /// The table's rows for the images of a dataset, in the data's order. A table without image names
    /// must have exactly one row per image; otherwise the first image without a row is named.
    public func rows(for items: [(url: URL?, name: String)], source: String) throws -> [Int] {
        if images.isEmpty {
            guard labels.count == items.count else {
                throw DatasetError("\(source) has \(labels.count) rows but the data has \(items.count) images; an unnamed label matrix must list every image, in order")
            }
            return Array(labels.indices)
        }
        return try items.map { item in
            guard let i = row(for: item.url, name: item.name) else {
                throw DatasetError("image \(item.name) has no row in \(source) (matched by path, by path relative to the dataset root, or by a unique file name)")
            }
            return i
        }
    }

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
