import Foundation

/// Datasets of image files: torchvision's ImageFolder (`root/<class>/<image>`), a flat folder of
/// `NAME_INDEX_LABEL.ext` files (the foolbox samples), and a manifest CSV of `path,label` rows.
public struct ImageFileDataset: Dataset {
    public let root: URL
    public let files: [URL]
    public let labels: [Int]
    public let classNames: [String]
    public var count: Int { files.count }

    public init(root: URL, files: [URL], labels: [Int], classNames: [String]) {
        (self.root, self.files, self.labels, self.classNames) = (root, files, labels, classNames)
    }

    public func sample(at index: Int) throws -> (image: Image, label: Int) {
        do { return (try Image.load(contentsOf: files[index]), labels[index]) } catch {
            throw DatasetError("\(name(at: index)): \(error)")
        }
    }

    public func name(at index: Int) -> String {
        let path = files[index].path, base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    static func images(in dir: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { extensions.contains($0.pathExtension.lowercased()) }.sorted { $0.path < $1.path }
    }

    static func subfolders(of dir: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: [.isDirectoryKey])
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true && !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// ImageFolder: one sub-folder per class, classes in sorted order (torchvision's labels).
    public static func imageFolder(_ root: URL, classNames fixed: [String]? = nil) throws -> ImageFileDataset {
        let classes = try subfolders(of: root)
        guard !classes.isEmpty else { throw DatasetError("\(root.path): no class sub-folders (ImageFolder layout is root/<class>/<image>)") }
        let names = fixed ?? classes.map(\.lastPathComponent)
        var files: [URL] = [], labels: [Int] = []
        for dir in classes {
            guard let label = names.firstIndex(of: dir.lastPathComponent) else {
                throw DatasetError("\(dir.path): class '\(dir.lastPathComponent)' is not among the training classes \(names)")
            }
            let images = try self.images(in: dir)
            files += images
            labels += Array(repeating: label, count: images.count)
        }
        guard !files.isEmpty else { throw DatasetError("\(root.path): the class folders hold no PNG or JPEG images") }
        return ImageFileDataset(root: root, files: files, labels: labels, classNames: names)
    }

    /// A flat folder of `NAME_INDEX_LABEL.ext` files, ordered by index; `prefix` selects one set.
    public static func labelledNames(_ root: URL, prefix: String = "") throws -> ImageFileDataset {
        let all = try images(in: root).filter { $0.lastPathComponent.hasPrefix(prefix) }
        var entries: [(URL, Int, Int)] = []
        for url in all {
            guard let (index, label) = ImageFiles.indexAndLabel(url.lastPathComponent) else {
                throw DatasetError("\(url.lastPathComponent): expected NAME_INDEX_LABEL.ext")
            }
            entries.append((url, index, label))
        }
        guard !entries.isEmpty else { throw DatasetError("\(root.path): no NAME_INDEX_LABEL images\(prefix.isEmpty ? "" : " starting with \(prefix)")") }
        entries.sort { ($0.1, $0.0.path) < ($1.1, $1.0.path) }
        let classCount = (entries.map(\.2).max() ?? 0) + 1
        return ImageFileDataset(root: root, files: entries.map(\.0), labels: entries.map(\.2),
                                classNames: (0..<classCount).map(String.init))
    }

    /// A CSV manifest with a `path,label` header; paths relative to the CSV's folder.
    public static func manifest(_ csv: URL) throws -> ImageFileDataset {
        let text: String
        do { text = try String(contentsOf: csv, encoding: .utf8) } catch { throw DatasetError("\(csv.path): unreadable (\(error.localizedDescription))") }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first, header.lowercased().replacingOccurrences(of: " ", with: "") == "path,label" else {
            throw DatasetError("\(csv.lastPathComponent): expected a 'path,label' header")
        }
        let root = csv.deletingLastPathComponent()
        var files: [URL] = [], labels: [Int] = []
        for (n, line) in lines.dropFirst().enumerated() {
            guard let comma = line.lastIndex(of: ","), let label = Int(line[line.index(after: comma)...].trimmingCharacters(in: .whitespaces)), label >= 0 else {
                throw DatasetError("\(csv.lastPathComponent) line \(n + 2): expected path,label with a non-negative integer label")
            }
            let path = String(line[..<comma])
            files.append(path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path))
            labels.append(label)
        }
        guard !files.isEmpty else { throw DatasetError("\(csv.lastPathComponent): no rows") }
        return ImageFileDataset(root: root, files: files, labels: labels,
                                classNames: (0...(labels.max() ?? 0)).map(String.init))
    }
}
