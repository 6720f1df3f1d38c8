/// A zoo model that declares its trunk: the ordered top-level stages an integer `--layer` indexes
/// (VGG19's `27` is `features.27`; MobileNetV2's `18` is `features.18`).
public protocol TrunkModel: Module {
    var trunk: [String] { get }
}
