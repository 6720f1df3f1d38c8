import Foundation

/// Image inputs named on the command line: a file, a folder (ImageFolder layout with one
/// sub-folder per class, or a flat folder), or a fetched sample set (`foolbox-imagenet`,
/// `skimage-samples`, …). Labels come from the class folder or from `NAME_INDEX_LABEL.ext` names.
public struct ImageItem: Sendable, Equatable {
    public let url: URL
    public let label: Int?
    public init(url: URL, label: Int?) { (self.url, self.label) = (url, label) }
}

public enum ImageFiles {
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The images `spec` names, in a stable order (class, then file name; sample sets by index).
    public static func resolve(_ spec: String, store: AssetStore = AssetStore(), manifest: AssetManifest? = nil) throws -> [ImageItem] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: spec, isDirectory: &isDir) {
            let url = URL(fileURLWithPath: spec)
            return isDir.boolValue ? try folder(url) : [ImageItem(url: url, label: nil)]
        }
        // A sample set from the asset cache.
        let manifest = try manifest ?? AssetManifest.locate()
        guard let asset = manifest.assets.first(where: { $0.provides.contains(spec) && $0.kind == "data" }) else {
            throw ImageFilesError("'\(spec)' is neither a file, a folder nor a sample set (\(manifest.assets.filter { $0.kind == "data" }.flatMap(\.provides).joined(separator: ", ")))")
        }
        let dir = try store.url(of: asset).deletingLastPathComponent()
        var prefix = ""
        if spec.hasPrefix("foolbox-") {
            let set = String(spec.dropFirst("foolbox-".count))
            prefix = (set == "fashionmnist" ? "fashionMNIST" : set) + "_"
        }
        let names = asset.files.map(\.fileName).filter { $0.hasPrefix(prefix) && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
        let items = names.map { ImageItem(url: dir.appendingPathComponent($0), label: labelFromName($0)) }
        return items.sorted { (indexFromName($0.url.lastPathComponent) ?? 0, $0.url.path) < (indexFromName($1.url.lastPathComponent) ?? 0, $1.url.path) }
    }

    private static func folder(_ url: URL) throws -> [ImageItem] {
        let fm = FileManager.default
        let entries = try fm.contentsOfDirectory(at: url, includingPropertiesForKeys: [.isDirectoryKey]).sorted { $0.path < $1.path }
        let classes = entries.filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true && !$0.lastPathComponent.hasPrefix(".") }
        if !classes.isEmpty {
            var items: [ImageItem] = []
            for (label, dir) in classes.enumerated() {
                let files = try fm.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
                    .filter { extensions.contains($0.pathExtension.lowercased()) }.sorted { $0.path < $1.path }
                items += files.map { ImageItem(url: $0, label: label) }
            }
            guard !items.isEmpty else { throw ImageFilesError("\(url.path): class folders hold no PNG or JPEG images") }
            return items
        }
        let files = entries.filter { extensions.contains($0.pathExtension.lowercased()) }
        guard !files.isEmpty else { throw ImageFilesError("\(url.path) holds no PNG or JPEG images") }
        return files.map { ImageItem(url: $0, label: labelFromName($0.lastPathComponent)) }
    }

    /// `imagenet_07_285.jpg` → (index 7, label 285); nil unless the name ends in `_INDEX_LABEL`.
    static func indexAndLabel(_ name: String) -> (index: Int, label: Int)? {
        let parts = (name as NSString).deletingPathExtension.split(separator: "_")
        guard parts.count >= 3, let index = Int(parts[parts.count - 2]), let label = Int(parts[parts.count - 1]) else { return nil }
        return (index, label)
    }

    static func labelFromName(_ name: String) -> Int? { indexAndLabel(name)?.label }
    static func indexFromName(_ name: String) -> Int? { indexAndLabel(name)?.index }
}

public struct ImageFilesError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
