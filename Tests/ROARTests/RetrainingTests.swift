import Foundation
import Testing
import NNRuntime
@testable import ROAR

/// Retraining units are resumable folders: a finished unit is never trained again and an interrupted
/// one continues from its last epoch.
@Suite struct RetrainingTests {
    /// 4×4 gray images: class 1 when the left half is brighter.
    struct Halves: Dataset {
        let n: Int, salt: UInt64
        var count: Int { n }
        var classNames: [String] { ["right", "left"] }
        func name(at index: Int) -> String { "\(index)" }
        func sample(at index: Int) throws -> (image: Image, label: Int) {
            var gen = SeededGenerator(seed: UInt64(index) &+ salt)
            let label = index % 2
            let pixels = (0..<16).map { p -> UInt8 in
                let bright = (p % 4 < 2) == (label == 1)
                return UInt8((bright ? 150 : 60) + Int(gen.nextUniform() * 40))
            }
            return (try Image(width: 4, height: 4, channels: 1, pixels: pixels), label)
        }
    }

    static let input = InputSpec(channels: 1, height: 4, width: 4, resizeShortSide: nil, filter: .bilinear, mean: [0.4], std: [0.2])

    func retrainer(_ folder: URL, epochs: Int, builds: Counter) -> Retrainer {
        Retrainer(folder: folder, input: Self.input, options: Trainer.Options(epochs: epochs, batchSize: 16, learningRate: 0.05)) { seed in
            builds.value += 1
            return Sequential(Flatten(), Linear(16, 2, seed: seed))
        }
    }

    final class Counter: @unchecked Sendable { var value = 0 }
    struct Interrupt: Error {}

    @Test func finishedUnitsAreSkippedAndInterruptedOnesResume() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("roar-units-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (train, val, test) = (Halves(n: 64, salt: 0), Halves(n: 16, salt: 1000), Halves(n: 32, salt: 2000))
        let units = [RetrainingUnit(method: "random", kind: .roar, fraction: 0.3, run: 0),
                     RetrainingUnit(method: "random", kind: .roar, fraction: 0.3, run: 1)]
        let builds = Counter()
        let first = retrainer(dir, epochs: 3, builds: builds)
        let done = try first.run(units[0], train: train, val: val, test: test)
        #expect(done.epochs == 3 && done.testAccuracy > 0.9)
        // A second unit finishes, then the process dies.
        var epochsSeen = 0
        #expect(throws: Interrupt.self) {
            try first.run(units[1], train: train, val: val, test: test) { _ in
                epochsSeen += 1
            }
            throw Interrupt()
        }
        #expect(epochsSeen == 3)
        // A third unit is killed mid-way: its folder holds a checkpoint after epoch 1 and no result.
        let third = RetrainingUnit(method: "random", kind: .kar, fraction: 0.5, run: 0)
        let partial = retrainer(dir, epochs: 1, builds: builds)
        try partial.run(third, train: train, val: val, test: test)
        let unitDir = dir.appendingPathComponent(third.id)
        try FileManager.default.removeItem(at: unitDir.appendingPathComponent("result.json"))
        let m = try partial.makeModel(0)
        let trainer = try Trainer(model: m, input: Self.input, options: Trainer.Options(epochs: 3, batchSize: 16, learningRate: 0.05))
        try trainer.fit(train: train, val: val) { _, _, checkpoint in
            if trainer.completedEpochs == 1 { try SafeTensors.write(checkpoint, to: unitDir.appendingPathComponent("checkpoint.safetensors")) }
        }
        // Re-running: unit 0 and 1 come from their results; the third trains only its 2 missing epochs.
        let again = retrainer(dir, epochs: 3, builds: builds)
        let before = builds.value
        var resumedEpochs: [Int] = []
        for unit in units { #expect(try again.run(unit, train: train, val: val, test: test) { _ in Issue.record("\(unit) retrained") } == again.result(of: unit)!) }
        #expect(builds.value == before)
        let resumed = try again.run(third, train: train, val: val, test: test) { resumedEpochs.append($0.epoch) }
        #expect(resumedEpochs == [2, 3] && resumed.epochs == 3)
        #expect(!FileManager.default.fileExists(atPath: unitDir.appendingPathComponent("checkpoint.safetensors").path))
    }

    @Test func unitIdsAndSeedsAreStable() {
        let u = RetrainingUnit(method: "smoothgrad-squared", kind: .kar, fraction: 0.7, run: 2)
        #expect(u.id == "kar-smoothgrad-squared-70-run2")
        let r = Retrainer(folder: URL(fileURLWithPath: "/tmp"), input: Self.input, options: Trainer.Options(epochs: 1)) { _ in Sequential() }
        #expect(r.unitSeed(u) == r.unitSeed(u) && r.unitSeed(u) != r.unitSeed(RetrainingUnit(method: "smoothgrad-squared", kind: .kar, fraction: 0.7, run: 1)))
    }
}
