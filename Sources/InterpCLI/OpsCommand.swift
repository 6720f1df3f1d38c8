import ArgumentParser
import NNRuntime

/// `interp ops`: lists the differentiable ops of the runtime, the names that tape traces and backward
/// rules use.
struct OpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "List the runtime's differentiable ops (the names tape traces and backward rules use)."
    )

    func run() throws {
        for op in OpKind.allCases where op != .leaf && op != .custom { print(op.rawValue) }
    }
}
