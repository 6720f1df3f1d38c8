import NNRuntime

/// Grad-CAM (Selvaraju et al., ICCV 2017, "Grad-CAM: Visual Explanations from Deep Networks via
/// Gradient-based Localization"): at a convolutional layer with activations A_k, the channel
/// weights α_k are the spatial means of ∂y_c/∂A_k, and the map is ReLU(Σ_k α_k A_k), bilinearly
/// upsampled to the input size.
///
/// This is captum's `LayerGradCam(model, layer).attribute(x, target, relu_attributions=True)`
/// followed by `LayerAttribution.interpolate(map, (H, W), "bilinear")` (PyTorch's bilinear
/// `interpolate` with `align_corners=False`): the ReLU comes before the upsampling. The default
/// layer is the zoo's `gradCAMLayer` (the last convolutional block: `features.18` of MobileNetV2,
/// `layer3` of ResNet-8, `layer4` of ResNet-18/50); the saurabheights ROAR code uses ResNet-8's
/// `layer3.0.relu`, which is the same tensor as `layer3`.
extension Attributor {
    /// The layer GradCAM reads: the options' layer, else the model's default, resolved in the model.
    func resolvedGradCAMLayer() throws -> String {
        guard let spec = options.layer ?? gradCAMLayer else {
            throw AttributionError("gradcam: no layer given and the model has no default GradCAM layer; pass a layer")
        }
        do {
            return try model.resolveLayer(spec, trunk: (model as? TrunkModel)?.trunk ?? []).captureName
        } catch let e as LayerPathError {
            throw AttributionError("gradcam: \(e.description)")
        }
    }

    /// Maps `[N, 1, H, W]` at the input's resolution.
    func gradCAM(_ x: Tensor, targets: [Int]) throws -> Tensor {
        let layer = try resolvedGradCAMLayer()
        var parts: [Tensor] = []
        for (start, end) in chunks(x.shape[0], chunkSize(for: x)) {
            let xc = x.slice(axis: 0, start: start, end: end)
            guard let (a, g) = try targetGradient(xc, targets: Array(targets[start..<end]), layer: layer).layer else {
                throw AttributionError("gradcam: layer \(layer) was not called in the forward pass")
            }
            guard a.rank == 4 else {
                throw AttributionError("gradcam: layer \(layer) outputs shape \(a.shape); GradCAM needs a convolutional [N, C, h, w] output")
            }
            parts.append(Self.gradCAMMap(activation: a, gradient: g, size: (x.shape[2], x.shape[3])))
        }
        return parts.count == 1 ? parts[0] : concat(parts, axis: 0)
    }

    /// ReLU(Σ_k mean_{ij}(∂y/∂A_k) · A_k), upsampled bilinearly to `size` (no upsampling when the
    /// layer already has that size).
    public static func gradCAMMap(activation a: Tensor, gradient g: Tensor, size: (Int, Int)) -> Tensor {
        let weights = g.mean(axes: [2, 3], keepDims: true)
        let cam = (weights * a).sum(axes: [1], keepDims: true).clamped(min: 0)
        if cam.shape[2] == size.0 && cam.shape[3] == size.1 { return cam }
        return resizeBilinear(cam, size: size, alignCorners: false)
    }
}
