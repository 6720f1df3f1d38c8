/// The MNIST digit classifier of the `digit-recognizer-py` package (three 3×3 conv + ReLU + 2×2
/// max-pool stages, then two linear layers), with its module names (`conv_layers.0`,
/// `fc_layers.2`) so its checkpoint loads unchanged. Input 1×28×28.
public final class MNISTCNN: Module, TrunkModel {
    public let convLayers: Sequential
    public let fcLayers: Sequential

    public init(classCount: Int = 10, seed: UInt64 = 0) {
        convLayers = Sequential(
            Conv2d(1, 32, kernelSize: 3, padding: .symmetric(1, 1), seed: seed), ReLU(), MaxPool2d(kernelSize: 2, stride: 2),
            Conv2d(32, 64, kernelSize: 3, padding: .symmetric(1, 1), seed: seed &+ 1), ReLU(), MaxPool2d(kernelSize: 2, stride: 2),
            Conv2d(64, 128, kernelSize: 3, padding: .symmetric(1, 1), seed: seed &+ 2), ReLU(), MaxPool2d(kernelSize: 2, stride: 2))
        fcLayers = Sequential(Linear(128 * 3 * 3, 256, seed: seed &+ 3), ReLU(), Linear(256, classCount, seed: seed &+ 4))
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        fcLayers(convLayers(x).flattened())
    }

    public override var namedChildren: [(String, Module)] { [("conv_layers", convLayers), ("fc_layers", fcLayers)] }

    public var trunk: [String] {
        (0..<convLayers.count).map { "conv_layers.\($0)" } + (0..<fcLayers.count).map { "fc_layers.\($0)" }
    }
}
