import NNRuntime

/// Statistics shared by the interpretability methods: outlier detectors, ROC-AUC with ties,
/// Mann–Whitney U, bitsets, embeddings. Filled by the method issues; it depends on NNRuntime only.
public enum Analysis {
    /// The version of the analysis routines, recorded in run configs.
    public static let version = "0.1.0"
}
