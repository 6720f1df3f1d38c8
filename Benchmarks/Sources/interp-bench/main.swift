import ArgumentParser
import Foundation
import NNRuntime

/// `interp-bench`: times NNRuntime workloads and, in the same invocation, the PyTorch peer script
/// on the same shapes and thread count, then prints a table (or JSON) and appends the results,
/// with commit, date and machine, to `Benchmarks/Results/`.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interp-bench",
        abstract: "Benchmark NNRuntime against PyTorch CPU on the same machine (build with -c release)."
    )

    @Argument(help: "Workload ids (default: all). --list shows them.") var workloads: [String] = []
    @Flag(help: "List the workloads.") var list = false
    @Option(help: "Timed runs per workload (the median is reported).") var runs = 5
    @Option(help: "Untimed warm-up runs (each peer is a fresh process, whose oneDNN kernels settle after a few calls).") var warmup = 3
    @Option(help: "Threads for both sides (OpenBLAS and torch).") var threads = 2
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Do not append to Benchmarks/Results/.") var noRecord = false
    @Flag(help: "Skip the PyTorch peer.") var noPytorch = false

    func validate() throws {
        if runs < 5 { throw ValidationError("--runs must be at least 5 (medians of fewer runs are noise)") }
    }

    func run() throws {
        if list {
            for w in Workloads.all { print("\(w.id)  \(w.summary)") }
            return
        }
        let chosen = workloads.isEmpty ? Workloads.all : try workloads.map { id in
            guard let w = Workloads.all.first(where: { $0.id == id }) else {
                throw ValidationError("unknown workload '\(id)'; known: \(Workloads.all.map(\.id).joined(separator: ", "))")
            }
            return w
        }
        Threading.setThreadCount(threads)
        var results: [[String: Any]] = []
        for w in chosen {
            FileHandle.standardError.write(Data("interp-bench: \(w.id) (ours)…\n".utf8))
            let step = try w.prepare()
            for _ in 0..<warmup { step() }
            // Memory the timed steps need above what the process holds after warm-up: the peak is
            // reset here (Linux /proc/self/clear_refs), exactly as the peer script does.
            let baseline = ResidentMemory.resetPeak()
            var times: [Double] = []
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                step()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let ours = median(times)
            let flops = w.flops(ours)
            var result: [[String: Any]] = [["workload": w.id, "ours_s": ours, "ours_p90_s": percentile(times, 0.9),
                                            "gflops": flops / ours / 1e9, "peak_rss_mb": peakRSSMegabytes(),
                                            "step_memory_mb": ResidentMemory.peakMegabytes() - baseline]]
            // The peer runs right after, so both sides see the machine in the same state: this
            // shared 2-core machine's speed drifts by tens of percent over minutes.
            if !noPytorch { try addPeer(&result) }
            results += result
        }
        report(results)
        if !noRecord { try record(results) }
    }

    /// Times `results`' workloads with the PyTorch peer (Benchmarks/pytorch_peer.py under
    /// `$INTERP_TORCH_PYTHON`, default python3), one long-lived process asked one workload at a time.
    func addPeer(_ results: inout [[String: Any]]) throws {
        guard let peer = try Peer.shared(runs: runs, warmup: warmup, threads: threads) else { return }
        for i in results.indices {
            guard let r = peer.measure(results[i]["workload"] as! String), let t = r["median_s"] as? Double else { continue }
            results[i]["pytorch_s"] = t
            results[i]["pytorch_peak_rss_mb"] = r["peak_rss_mb"]
            results[i]["pytorch_step_memory_mb"] = r["step_memory_mb"]
            results[i]["ratio"] = (results[i]["ours_s"] as! Double) / t
        }
    }

    func report(_ results: [[String: Any]]) {
        if json {
            let data = try! JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("workload                               ours (s)  pytorch (s)  ratio  GFLOP/s  step MB ours / pytorch")
        for r in results {
            let id = (r["workload"] as! String).padding(toLength: 38, withPad: " ", startingAt: 0)
            let pt = (r["pytorch_s"] as? Double).map { String(format: "%11.3f", $0) } ?? "          –"
            let ratio = (r["ratio"] as? Double).map { String(format: "%6.2f", $0) } ?? "     –"
            let memory = String(format: "%7.0f", r["step_memory_mb"] as? Double ?? 0)
                + ((r["pytorch_step_memory_mb"] as? Double).map { String(format: " / %.0f", $0) } ?? " / –")
            print("\(id) \(String(format: "%8.3f", r["ours_s"] as! Double))  \(pt)  \(ratio)  \(String(format: "%7.1f", r["gflops"] as! Double))  \(memory)")
        }
    }

    /// Appends one JSON file per invocation: commit, date, machine, settings and results.
    func record(_ results: [[String: Any]]) throws {
        let root = Bench.repositoryRoot()
        let commit = (try? shell("git", "-C", root.path, "rev-parse", "--short", "HEAD")) ?? "unknown"
        let date = ISO8601DateFormatter().string(from: Date())
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
            .trimmingCharacters(in: .whitespaces) ?? "unknown"
        let entry: [String: Any] = ["commit": commit, "date": date, "machine": ["cpu": cpu, "cores": ProcessInfo.processInfo.activeProcessorCount],
                                    "threads": threads, "runs": runs, "warmup": warmup, "results": results]
        let dir = root.appendingPathComponent("Benchmarks/Results")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let name = "\(date.prefix(10))-\(commit).json"
        let data = try JSONSerialization.data(withJSONObject: entry, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: dir.appendingPathComponent(name), options: .atomic)
        FileHandle.standardError.write(Data("interp-bench: recorded Benchmarks/Results/\(name)\n".utf8))
    }

    static func repositoryRoot() -> URL {
        var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }
}

func median(_ xs: [Double]) -> Double { percentile(xs, 0.5) }

func percentile(_ xs: [Double], _ q: Double) -> Double {
    let s = xs.sorted()
    let pos = q * Double(s.count - 1)
    let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
    return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
}

/// The PyTorch side: `pytorch_peer.py --serve`, started once and kept warm, answering one workload
/// id per line with one JSON line.
final class Peer {
    nonisolated(unsafe) private static var started: Peer??
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()

    static func shared(runs: Int, warmup: Int, threads: Int) throws -> Peer? {
        if let started { return started }
        let peer = Peer()
        let python = ProcessInfo.processInfo.environment["INTERP_TORCH_PYTHON"] ?? "python3"
        let script = Bench.repositoryRoot().appendingPathComponent("Benchmarks/pytorch_peer.py")
        peer.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        peer.process.arguments = [python, script.path, "--serve", "--runs", String(runs), "--warmup", String(warmup),
                                  "--threads", String(threads)]
        peer.process.standardInput = peer.input
        peer.process.standardOutput = peer.output
        FileHandle.standardError.write(Data("interp-bench: PyTorch peer (\(python))…\n".utf8))
        do { try peer.process.run() } catch {
            FileHandle.standardError.write(Data("interp-bench: no PyTorch peer (\(error)); reporting our side only\n".utf8))
            started = .some(nil)
            return nil
        }
        started = peer
        return peer
    }

    /// The peer's result for `workload`, or nil when it has none (or has no torch).
    func measure(_ workload: String) -> [String: Any]? {
        guard process.isRunning else { return nil }
        input.fileHandleForWriting.write(Data((workload + "\n").utf8))
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                FileHandle.standardError.write(Data("interp-bench: the PyTorch peer ended (does $INTERP_TORCH_PYTHON have torch?)\n".utf8))
                return nil
            }
            buffer.append(chunk)
        }
        let end = buffer.firstIndex(of: UInt8(ascii: "\n"))!
        let line = buffer[buffer.startIndex..<end]
        buffer = Data(buffer[(end + 1)...])
        return (try? JSONSerialization.jsonObject(with: line) as? [String: [String: Any]])?[workload]
    }
}

/// Resident memory from /proc/self/status, with the peak reset through /proc/self/clear_refs.
enum ResidentMemory {
    /// Resets the peak (VmHWM) to the current RSS and returns the current RSS in MB.
    static func resetPeak() -> Double {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        return field("VmRSS")
    }

    static func peakMegabytes() -> Double { field("VmHWM") }

    private static func field(_ name: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
              let kb = Double(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "") else { return 0 }
        return kb / 1024
    }
}

func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024   // kilobytes on Linux
}

func shell(_ args: String...) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

Bench.main()
