import Foundation

/// How a model expects its input: size, colour channels, and the normalisation applied after
/// resizing/cropping and scaling pixels to [0, 1] (`(x − mean) / std`, per channel).
public struct InputSpec: Sendable, Equatable, Codable {
    public enum Filter: String, Sendable, Codable { case bilinear, bicubic, nearest }
    /// Channels, height, width of the tensor the model takes.
    public let channels: Int, height: Int, width: Int
    /// Short side to resize to before the centre crop (nil: resize straight to height × width).
    public let resizeShortSide: Int?
    public let filter: Filter
    public let mean: [Float], std: [Float]

    public init(channels: Int, height: Int, width: Int, resizeShortSide: Int?, filter: Filter, mean: [Float], std: [Float]) {
        precondition(mean.count == channels && std.count == channels, "InputSpec: one mean and std per channel")
        (self.channels, self.height, self.width) = (channels, height, width)
        (self.resizeShortSide, self.filter, self.mean, self.std) = (resizeShortSide, filter, mean, std)
    }

    public static let imagenet = InputSpec(channels: 3, height: 224, width: 224, resizeShortSide: 256, filter: .bilinear,
                                           mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// TF-style `(x·255 − 127)/128`, i.e. mean 127/255 and std 128/255 on [0, 1] pixels.
    public static let efficientNetLite = InputSpec(channels: 3, height: 224, width: 224, resizeShortSide: 256, filter: .bicubic,
                                                   mean: [127 / 255, 127 / 255, 127 / 255], std: [128 / 255, 128 / 255, 128 / 255])
    public static let mnist = InputSpec(channels: 1, height: 28, width: 28, resizeShortSide: nil, filter: .bilinear,
                                        mean: [0.1307], std: [0.3081])
    public static let cifar10 = InputSpec(channels: 3, height: 32, width: 32, resizeShortSide: nil, filter: .bilinear,
                                          mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
}

/// A zoo entry: how to build the architecture, what input it takes, its class names, its default
/// GradCAM layer and the asset holding its pretrained weights (nil: `--weights` or `--random-init`).
public struct ModelSpec: @unchecked Sendable {
    public let name: String
    public let summary: String
    public let input: InputSpec
    public let classCount: Int
    /// Name of the class-name list (`imagenet`, `digits`, `cifar10`).
    public let classNames: String
    public let gradCAMLayer: String
    /// The final linear layer, whose output size is the class count.
    public let headPath: String
    /// The asset of `Datasets/assets.json` with the weights, if any.
    public let weightsAsset: String?
    public let build: (_ classCount: Int, _ seed: UInt64) -> TrunkModel
}

/// The zoo: every architecture interp can build by name.
public enum ModelRegistry {
    public static let all: [ModelSpec] = [
        ModelSpec(name: "mobilenet_v2", summary: "torchvision MobileNetV2, ImageNet-1k (IMAGENET1K_V1 weights)",
                  input: .imagenet, classCount: 1000, classNames: "imagenet", gradCAMLayer: "features.18", headPath: "classifier.1",
                  weightsAsset: "mobilenet_v2") { MobileNetV2(classCount: $0, seed: $1) },
        ModelSpec(name: "efficientnet_lite0", summary: "EfficientNet-Lite0, ImageNet-1k (converted TF weights)",
                  input: .efficientNetLite, classCount: 1000, classNames: "imagenet", gradCAMLayer: "_conv_head", headPath: "_fc",
                  weightsAsset: "efficientnet_lite0") { EfficientNetLite0(classCount: $0, seed: $1) },
        ModelSpec(name: "mnist_cnn", summary: "digit-recognizer-py MNIST CNN (3 conv blocks, 2 linear)",
                  input: .mnist, classCount: 10, classNames: "digits", gradCAMLayer: "conv_layers.7", headPath: "fc_layers.2",
                  weightsAsset: "mnist_cnn") { MNISTCNN(classCount: $0, seed: $1) },
        ModelSpec(name: "resnet8", summary: "CIFAR ResNet-8 of the ROAR reference implementation",
                  input: .cifar10, classCount: 10, classNames: "cifar10", gradCAMLayer: "layer3", headPath: "fc",
                  weightsAsset: nil) { ResNet.resnet8(classCount: $0, seed: $1) },
        ModelSpec(name: "resnet18", summary: "torchvision ResNet-18 (bring weights with --weights)",
                  input: .imagenet, classCount: 1000, classNames: "imagenet", gradCAMLayer: "layer4", headPath: "fc",
                  weightsAsset: nil) { ResNet.resnet18(classCount: $0, seed: $1) },
        ModelSpec(name: "resnet50", summary: "torchvision ResNet-50 (bring weights with --weights)",
                  input: .imagenet, classCount: 1000, classNames: "imagenet", gradCAMLayer: "layer4", headPath: "fc",
                  weightsAsset: nil) { ResNet.resnet50(classCount: $0, seed: $1) },
        ModelSpec(name: "vgg16", summary: "torchvision VGG-16 (bring weights with --weights)",
                  input: .imagenet, classCount: 1000, classNames: "imagenet", gradCAMLayer: "features.29", headPath: "classifier.6",
                  weightsAsset: nil) { VGG.vgg16(classCount: $0, seed: $1) },
        ModelSpec(name: "vgg19", summary: "torchvision VGG-19 (bring weights with --weights)",
                  input: .imagenet, classCount: 1000, classNames: "imagenet", gradCAMLayer: "features.35", headPath: "classifier.6",
                  weightsAsset: nil) { VGG.vgg19(classCount: $0, seed: $1) },
    ]

    /// The entry called `name`; the error lists the zoo.
    public static func spec(named name: String) throws -> ModelSpec {
        if let s = all.first(where: { $0.name == name }) { return s }
        throw ModelError("unknown model '\(name)'; the zoo has \(all.map(\.name).joined(separator: ", ")) (or pass a .safetensors file)")
    }

    /// Class names by list name: ImageNet's 1000 (from `Datasets/imagenet_classes.txt`), the ten
    /// digits, CIFAR-10's classes.
    public static func classNames(_ list: String, count: Int, manifest: AssetManifest? = nil) -> [String] {
        switch list {
        case "digits": return (0..<count).map(String.init)
        case "cifar10": return ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        case "imagenet":
            if let url = manifest?.url.deletingLastPathComponent().appendingPathComponent("imagenet_classes.txt"),
               let text = try? String(contentsOf: url, encoding: .utf8) {
                let names = text.split(separator: "\n").map(String.init)
                if names.count == count { return names }
            }
            return (0..<count).map { "class \($0)" }
        default: return (0..<count).map { "class \($0)" }
        }
    }
}

/// A model could not be built or loaded; one line naming the model/file and what was expected.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
