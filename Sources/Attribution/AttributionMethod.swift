import NNRuntime

/// The attribution methods interp computes, by their canonical kebab-case names (the names the CLI's
/// `--attribution` and the ROAR pipeline use). They are the union of the methods of the ROAR paper's
/// two implementations (METHODS.md §4.4): gradient-based maps, their SmoothGrad ensembles, GradCAM,
/// and two model-free controls.
public enum AttributionMethod: String, CaseIterable, Codable, Sendable {
    /// The gradient of the target logit with respect to the input (Simonyan et al., 2014,
    /// "Deep Inside Convolutional Networks"); signed unless ``AttributionOptions/abs`` is set.
    case saliency
    /// Gradient times input (Shrikumar et al., 2016, "Not Just a Black Box").
    case inputXGradient = "input-x-gradient"
    /// Integrated Gradients (Sundararajan et al., ICML 2017, "Axiomatic Attribution for Deep Networks").
    case integratedGradients = "integrated-gradients"
    /// SmoothGrad: the mean of a base map over noisy copies of the input (Smilkov et al., 2017).
    case smoothGrad = "smoothgrad"
    /// SmoothGrad-Squared: the mean of the squared base maps (Hooker et al., NeurIPS 2019).
    case smoothGradSquared = "smoothgrad-squared"
    /// VarGrad: the variance of the base maps over the noisy copies (Adebayo et al., 2018).
    case varGrad = "vargrad"
    /// Guided backpropagation (Springenberg et al., ICLR 2015 workshop): only positive gradients
    /// pass backwards through `ReLU` and `ReLU6` modules. captum hooks `nn.ReLU` alone, so on
    /// ReLU6 networks (MobileNetV2) its maps are plain gradients there while interp's are guided;
    /// on ReLU networks the two agree.
    case guidedBackprop = "guided-backprop"
    /// Grad-CAM at a convolutional layer (Selvaraju et al., ICCV 2017), upsampled to the input.
    case gradCAM = "gradcam"
    /// Seeded i.i.d. uniform scores: the ROAR paper's random baseline.
    case random
    /// Sobel derivative of the image along its height: the ROAR paper's edge-detector control.
    case sobel

    /// Short names accepted besides the canonical ones.
    public static let aliases: [String: AttributionMethod] = [
        "ig": .integratedGradients, "sg": .smoothGrad, "sg2": .smoothGradSquared, "sg-sq": .smoothGradSquared,
        "var": .varGrad, "gb": .guidedBackprop, "grad-cam": .gradCAM, "gradient": .saliency, "ixg": .inputXGradient,
    ]

    /// A method by its canonical name or an alias; case and `_` versus `-` do not matter
    /// (`integrated_gradients`, `IG`, `smoothgrad_sq`).
    public init?(name: String) {
        let key = name.lowercased().replacingOccurrences(of: "_", with: "-")
        if let m = AttributionMethod(rawValue: key) ?? AttributionMethod.aliases[key] {
            self = m
        } else if key == "smoothgrad-sq" {
            self = .smoothGradSquared
        } else {
            return nil
        }
    }

    /// SmoothGrad, SmoothGrad² and VarGrad, which wrap a base method (captum's `NoiseTunnel`).
    public var isNoiseTunnel: Bool { [.smoothGrad, .smoothGradSquared, .varGrad].contains(self) }

    /// The model-free controls, which need no gradient (a forward pass only picks the target).
    public var isControl: Bool { self == .random || self == .sobel }

    /// Whether the method can be the base of a noise tunnel.
    public var canBeBase: Bool { !isNoiseTunnel && !isControl }
}

/// How Integrated Gradients approximates its path integral, with captum's two main choices.
public enum Integration: String, CaseIterable, Codable, Sendable {
    /// captum's `riemann_trapezoid`: α = linspace(0, 1, m) with step sizes 1/m, the two end points
    /// halved. The weights therefore sum to (m − 1)/m rather than 1 — captum's rule, kept for
    /// parity; prefer Gauss–Legendre, which is exact for polynomials of degree < 2m.
    case riemannTrapezoid = "riemann-trapezoid"
    /// Gauss–Legendre quadrature on [0, 1] (captum's default `gausslegendre`).
    case gaussLegendre = "gausslegendre"
}

/// The Integrated Gradients baseline x₀, in the model's normalised input space.
public enum Baseline: Codable, Sendable {
    /// All zeros after normalisation, i.e. the data set's mean colour (captum's default `baselines=0`).
    case zeros
    /// The black image after normalisation, `(0 − mean) / std` per channel (the ROAR paper's choice;
    /// needs the model's ``InputSpec``).
    case black
    /// A given tensor of the input's shape, or of one image's shape `[1, C, H, W]` for every image.
    case tensor(Tensor)

    private enum CodingKeys: String, CodingKey { case kind, shape, values }

    public init(from decoder: Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            switch name {
            case "zeros": self = .zeros
            case "black": self = .black
            default: throw AttributionError("baseline '\(name)' is not zeros, black or a tensor")
            }
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let shape = try c.decode([Int].self, forKey: .shape), values = try c.decode([Float].self, forKey: .values)
        guard shape.reduce(1, *) == values.count else {
            throw AttributionError("baseline tensor of shape \(shape) has \(values.count) values")
        }
        self = .tensor(Tensor(shape: shape, scalars: values))
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .zeros: var c = encoder.singleValueContainer(); try c.encode("zeros")
        case .black: var c = encoder.singleValueContainer(); try c.encode("black")
        case .tensor(let t):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode("tensor", forKey: .kind)
            try c.encode(t.shape, forKey: .shape)
            try c.encode(t.scalars, forKey: .values)
        }
    }
}

/// The settings of every method in one value; each method reads the fields it needs. The defaults
/// are the ones the ROAR experiments and captum use (see each field).
public struct AttributionOptions: Codable, Sendable {
    /// Saliency: absolute gradients (captum's `Saliency` default) instead of signed ones.
    public var abs = false
    /// Integrated Gradients: number of integration points (captum's default 50).
    public var steps = 50
    /// Integrated Gradients: the quadrature rule.
    public var integration: Integration = .gaussLegendre
    /// Integrated Gradients: the path's starting point.
    public var baseline: Baseline = .zeros
    /// SmoothGrad / SmoothGrad² / VarGrad: noisy copies per image (25, PAIR's and ROAR's setting).
    public var samples = 25
    /// Noise standard deviation as a fraction of each image's value range, σ = level · (max − min)
    /// (0.15, the ROAR paper's setting).
    public var noiseLevel: Float = 0.15
    /// The method a noise tunnel wraps.
    public var base: AttributionMethod = .saliency
    /// GradCAM: the layer (a path, `PATH@K` or a trunk index); nil takes the model's default.
    public var layer: String?
    /// Seed of the noise tunnel's noise and of the random control.
    public var seed: UInt64 = 0
    /// Images (IG: image × step pairs) per forward/backward pass; nil picks a size that keeps the
    /// recorded tape near that of 16 images at 224².
    public var internalBatchSize: Int?
    /// Explicit noise for the noise tunnel, `[N, samples, C, H, W]` (captum's layout: image-major),
    /// added as is instead of drawing it; for reproducing another implementation's run. Not encoded.
    public var noise: Tensor?

    private enum CodingKeys: String, CodingKey {
        case abs, steps, integration, baseline, samples, noiseLevel, base, layer, seed, internalBatchSize
    }

    public init() {}
}

/// An attribution could not be computed; one line naming the method or option and what was wrong.
public struct AttributionError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
