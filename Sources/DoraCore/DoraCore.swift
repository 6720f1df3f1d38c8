import NNRuntime

/// DORA — Data-agnOstic Representation Analysis (Bykov et al., TMLR 2023, arXiv 2206.04530): outlier
/// neurons found from synthetic activation-maximisation signals, without data.
///
/// The method is implemented by its own issue on top of NNRuntime; this target exists so that the
/// dependency graph (NNRuntime ← Analysis ← methods ← InterpCLI) is fixed from the start.
public enum DoraCoreInfo {
    public static let version = "0.1.0"
}
