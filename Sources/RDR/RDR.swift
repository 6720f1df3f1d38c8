import NNRuntime

/// RDR — Relaxed Decision Regions (Chang, Kwon, Choi, AAAI 2024, arXiv 2312.17285): principal neurons
/// whose on/off states group similar instances.
///
/// The method is implemented by its own issue on top of NNRuntime; this target exists so that the
/// dependency graph (NNRuntime ← Analysis ← methods ← InterpCLI) is fixed from the start.
public enum RDRInfo {
    public static let version = "0.1.0"
}
