import ArgumentParser
import NNRuntime

/// The `interp` command: one tool for DORA, INVERT, RDR and ROAR on one runtime.
public struct Interp: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "interp",
        abstract: "Open up trained image classifiers: DORA, INVERT, RDR and ROAR on one native runtime.",
        discussion: """
        interp runs four published interpretability methods on PyTorch-layout models (NCHW tensors, \
        torchvision state-dict names). Use `interp ops` to list the runtime's differentiable ops.
        """,
        version: Interp.version,
        subcommands: [FetchCommand.self, LayersCommand.self, PredictCommand.self, ActivationsCommand.self,
                      TrainCommand.self, EvalCommand.self, DatasetsCommand.self, DoraCommand.self, InvertCommand.self, RDRCommand.self, AttributeCommand.self, PerturbCommand.self, ROARCommand.self, OpsCommand.self]
    )

    public init() {}
}
