import ArgumentParser
import Foundation
import NNRuntime

/// Options every analysis command shares: where its run folder is and how to treat an existing one.
struct RunOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run folder (default runs/<command>-<hash of the resolved config>, so re-running resumes).", valueName: "dir"))
    var out: String?
    @Flag(help: "Recompute everything in an existing run folder.") var overwrite = false
    @Flag(help: "Print result.json on stdout.") var json = false
    @Option(help: "Threads for the numeric kernels (default: all cores).") var threads: Int?
    @Option(help: ArgumentHelp("A YAML file of options (keys are the long flag names); flags given on the command line win.", valueName: "file.yaml"))
    var config: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func applyThreads() { if let threads { Threading.setThreadCount(threads) } }
}

/// A run folder: `config.json` (resolved options, version, seed), stage outputs, `result.json`.
/// Files are written atomically (temporary file + rename), so an interrupted run never leaves a
/// half-written file, and the same command finds its folder again and resumes.
struct RunFolder {
    let url: URL
    /// True when the folder already held a run of the same configuration.
    let resumed: Bool

    /// Opens (or creates) the folder for `command` with `config`.
    static func open(command: String, config: [String: Any], options: RunOptions) throws -> RunFolder {
        var resolved = config
        resolved["command"] = command
        resolved["interp_version"] = Interp.version
        let data = try JSONSerialization.data(withJSONObject: resolved, options: [.sortedKeys, .prettyPrinted])
        let hash = String(SHA256.hexDigest(data).prefix(8))
        let url = URL(fileURLWithPath: options.out ?? "runs/\(command)-\(hash)")
        let fm = FileManager.default
        let configURL = url.appendingPathComponent("config.json")
        if options.overwrite { try? fm.removeItem(at: url) }
        var resumed = false
        if let existing = try? Data(contentsOf: configURL) {
            guard existing == data else {
                throw ValidationError("run folder \(url.path) holds a run with a different configuration; pass --overwrite or another --out")
            }
            resumed = true
        }
        try fm.createDirectory(at: url, withIntermediateDirectories: true)
        try data.write(to: configURL, options: .atomic)
        return RunFolder(url: url, resumed: resumed)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func writeJSON(_ value: Any, to name: String) throws {
        try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            .write(to: file(name), options: .atomic)
    }

    /// Rewrites the lines file `name` (if present) keeping the lines `keep` accepts.
    func keepLines(of name: String, _ keep: (String) -> Bool) throws {
        let u = file(name)
        guard let text = try? String(contentsOf: u, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n").map(String.init)
        let kept = lines.filter(keep)
        guard kept.count != lines.count else { return }
        try Data(kept.map { $0 + "\n" }.joined().utf8).write(to: u, options: .atomic)
    }

    func appendLine(_ line: String, to name: String) throws {
        let u = file(name)
        if !FileManager.default.fileExists(atPath: u.path) { try Data().write(to: u) }
        let handle = try FileHandle(forWritingTo: u)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((line + "\n").utf8))
    }
}

/// A one-line progress bar on stderr, redrawn in place.
struct ProgressBar {
    let label: String
    /// Redrawing only makes sense on a terminal; logs get the summary lines alone.
    static let interactive = isatty(2) != 0

    func update(_ done: Int, _ total: Int, _ suffix: String = "") {
        guard ProgressBar.interactive else { return }
        let width = 24, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(done)/\(total) \(suffix)   ".utf8))
    }
    func finish(_ message: String) {
        FileHandle.standardError.write(Data((ProgressBar.interactive ? "\r\(label) \(message)\u{1B}[K\n" : "\(label) \(message)\n").utf8))
    }
}
