import Foundation
import NNRuntime
import Attribution

extension Workloads {
    /// Integrated Gradients as ROAR's attribution stage runs it: 50 Gauss–Legendre steps from the
    /// zero baseline for 8 ImageNet-size images, each explaining its predicted class. Both sides
    /// differentiate 16 path points per pass (interp's default chunk at 224², captum's
    /// `internal_batch_size=16`, i.e. 2 steps of all 8 images), so the tape and autograd hold the
    /// same number of activations.
    static let attribution: [Workload] = [
        Workload(id: "attribute.ig50.mobilenet_v2.b8",
                 summary: "Integrated Gradients, 50 Gauss–Legendre steps, zero baseline, MobileNetV2, 8 images at 224², predicted class",
                 // 50 steps × 8 images of forward + input gradient ≈ 2× the forward FLOPs each.
                 flops: { _ in 50 * 2 * forwardFLOPs(MobileNetV2().evaluating(), input: .zeros([8, 3, 224, 224])) }) {
            let model = try mobileNet()
            model.module.freeze()
            var gen = SeededGenerator(seed: 7)
            let x = Tensor.randn([8, 3, 224, 224], using: &gen)
            var options = AttributionOptions()
            options.steps = 50
            options.integration = .gaussLegendre
            options.internalBatchSize = 16
            let ig = try Attributor(model: model.module, method: .integratedGradients, options: options)
            return { _ = try? ig.attribute(x) }
        },
    ]
}
