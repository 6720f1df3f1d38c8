import ArgumentParser
import Foundation
import NNRuntime

/// `interp eval`: accuracy and confusion matrix of a model on a dataset split.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Accuracy and confusion matrix of a model on a dataset split.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Split to evaluate: train, val or test.") var split: Split = .test
    @Option(help: "Images per forward pass.") var batchSize = 64
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let loaded = try model.load()
            let data = try dataOptions.open()[split]
            let r = try Trainer.evaluate(loaded.module, input: loaded.input, data: data, batchSize: batchSize, skipBad: dataOptions.skipBad)
            if json {
                print(try jsonText(["accuracy": r.accuracy, "count": data.count, "split": split.rawValue, "confusion": r.confusion]))
                return
            }
            print(String(format: "%@ on %@ (%@, %d images): accuracy %.4f", loaded.name, dataOptions.data, split.rawValue, data.count, r.accuracy))
            let names = data.classNames
            guard names.count <= 20 else { return }
            printTable(["true \\ pred"] + names, r.confusion.enumerated().map { [names[$0.offset]] + $0.element.map(String.init) })
        }
    }
}

extension Split: ExpressibleByArgument {}
