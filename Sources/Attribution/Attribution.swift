import NNRuntime

/// captum-like attribution methods (Saliency, Integrated Gradients, SmoothGrad, GradCAM, …) built on
/// NNRuntime's tape and hooks. Filled by the attribution issue.
public enum AttributionMethods {
    public static let version = "0.1.0"
}
