/// Batch normalisation over channels (`nn.BatchNorm2d`; also accepts `[N, C]` like `BatchNorm1d`).
///
/// State-dict names follow PyTorch: `weight`, `bias`, `running_mean`, `running_var`,
/// `num_batches_tracked`, so torchvision checkpoints load unchanged. In training mode the batch
/// statistics normalise and the running ones are updated; in evaluation mode the running ones are used.
public final class BatchNorm2d: Module {
    public let featureCount: Int
    public let eps: Float
    public let momentum: Float
    public let weight: Parameter?
    public let bias: Parameter?
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let batchesTracked: Parameter

    public init(_ featureCount: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        precondition(featureCount > 0, "BatchNorm2d: feature count must be positive")
        self.featureCount = featureCount
        self.eps = eps
        self.momentum = momentum
        weight = affine ? Parameter(.ones([featureCount])) : nil
        bias = affine ? Parameter(.zeros([featureCount])) : nil
        runningMean = Parameter(.zeros([featureCount]), isBuffer: true, key: "running_mean")
        runningVar = Parameter(.ones([featureCount]), isBuffer: true, key: "running_var")
        batchesTracked = Parameter(.zeros([]), isBuffer: true, key: "num_batches_tracked")
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == featureCount,
                     "BatchNorm2d: input \(x.shape) does not have \(featureCount) channels on axis 1")
        let r = batchNorm(x, runningMean: runningMean.value, runningVar: runningVar.value,
                          weight: weight?.value, bias: bias?.value, training: isTraining,
                          momentum: momentum, eps: eps)
        if isTraining {
            runningMean.value = r.runningMean
            runningVar.value = r.runningVar
            batchesTracked.value = Tensor(batchesTracked.value.scalar + 1)
        }
        return r.output
    }

    public override var extraDescription: String { "\(featureCount), eps: \(eps), momentum: \(momentum)" }
}
