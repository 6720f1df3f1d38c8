import NNRuntime

/// ROAR — RemOve And Retrain, and KAR — Keep And Retrain (Hooker et al., NeurIPS 2019, arXiv
/// 1806.10758): attribution maps evaluated by retraining on images with their top pixels removed.
///
/// The method is implemented by its own issue on top of NNRuntime; this target exists so that the
/// dependency graph (NNRuntime ← Analysis ← methods ← InterpCLI) is fixed from the start.
public enum ROARInfo {
    public static let version = "0.1.0"
}
