import Foundation
import Testing
import NNRuntime

/// `interp train` killed mid-run and started again with the same command resumes from the run
/// folder's checkpoint and finishes with a valid model.
@Suite struct TrainResumeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func interpBinary() -> URL? {
        for config in ["debug", "release"] {
            let url = Self.root.appendingPathComponent(".build/\(config)/interp")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    func launch(_ binary: URL, _ args: [String], stderr: URL) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: stderr)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test(.timeLimit(.minutes(5)))
    func killedRunResumesFromCheckpoint() throws {
        guard let binary = interpBinary() else {
            Issue.record("the interp executable is not built (swift build --build-tests builds it)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var shapes = ShapesGenerator()
        shapes.count = 150
        try shapes.write(to: dir.appendingPathComponent("data"))
        let run = dir.appendingPathComponent("run")
        let args = ["train", "--model", "mnist_cnn", "--data", dir.appendingPathComponent("data").path, "--epochs", "3",
                    "--batch-size", "16", "--out", run.path]
        let checkpoint = run.appendingPathComponent("checkpoint.safetensors")

        let first = try launch(binary, args, stderr: dir.appendingPathComponent("first.log"))
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && first.isRunning && Date() < deadline { usleep(20_000) }
        if first.isRunning { kill(first.processIdentifier, SIGKILL) }
        first.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: checkpoint.path), "the first run wrote a checkpoint before it was killed")

        let log = dir.appendingPathComponent("second.log")
        let second = try launch(binary, args, stderr: log)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)
        #expect(try String(contentsOf: log, encoding: .utf8).contains("resuming"))
        let history = try String(contentsOf: run.appendingPathComponent("history.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(history.map { $0["epoch"] as! Int } == [1, 2, 3], "each epoch trained exactly once")
        let model = try ModelLoader.load(model: run.appendingPathComponent("model.safetensors").path)
        #expect(model.name == "mnist_cnn" && model.classNames == ShapesGenerator.shapes)
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("result.json"))) as! [String: Any]
        #expect((result["test_accuracy"] as! Double) >= 0)
    }
}
