import NNRuntime

/// INVERT — Labeling Neural Representations with Inverse Recognition (Bykov et al., NeurIPS 2023,
/// arXiv 2311.13594): Boolean concept formulas for neurons, scored by AUC, with p-values.
///
/// The method is implemented by its own issue on top of NNRuntime; this target exists so that the
/// dependency graph (NNRuntime ← Analysis ← methods ← InterpCLI) is fixed from the start.
public enum InvertInfo {
    public static let version = "0.1.0"
}
