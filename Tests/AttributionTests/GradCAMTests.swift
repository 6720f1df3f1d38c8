import Testing
import NNRuntime
@testable import Attribution

/// GradCAM on hand-set weights, in the style of captum's `BasicModel_ConvNet_One_Conv` tests: the
/// expected maps follow from the definition without running any reference.
final class TinyCAMNet: Module {
    let conv = Conv2d(1, 2, kernelSize: 1, bias: false)
    let head = Linear(2, 2, bias: false)

    override init() {
        super.init()
        conv.weight.value = Tensor(shape: [2, 1, 1, 1], scalars: [1, -1])     // A₀ = x, A₁ = −x
        head.weight.value = Tensor(shape: [2, 2], scalars: [2, 1, 0.5, 3])     // y_c = Σ_k W[c,k] Σ_ij A_k
        eval()
    }

    override func forward(_ x: Tensor) -> Tensor { head(conv(x).sum(axes: [2, 3])) }
}

struct GradCAMTests {
    let x = Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])

    /// ∂y_c/∂A_k = W[c, k] everywhere, so α = W[c] and the map is ReLU(W[c,0]·x − W[c,1]·x).
    @Test func classZeroGivesTheImage() throws {
        var o = AttributionOptions()
        o.layer = "conv"
        let (maps, _) = try Attributor(model: TinyCAMNet(), method: .gradCAM, options: o).attribute(x, targets: [0])
        #expect(maps.shape == [1, 1, 3, 3])
        #expect(maps.scalars == [1, 2, 3, 4, 5, 6, 7, 8, 9])          // (2 − 1)·x
    }

    @Test func negativeEvidenceIsCutByReLU() throws {
        let a = try Attributor(model: TinyCAMNet(), method: .gradCAM, gradCAMLayer: "conv")
        let (maps, _) = try a.attribute(x, targets: [1])
        #expect(maps.scalars.allSatisfy { $0 == 0 })                 // (0.5 − 3)·x < 0
        // A batch explains each image's own target.
        let both = try a.attribute(concat([x, x], axis: 0), targets: [1, 0]).maps
        #expect(both.slice(axis: 0, start: 1, end: 2).scalars == x.scalars)
    }

    /// The predicted class of x is 0 (y = [45, −22.5]).
    @Test func defaultTargetIsThePrediction() throws {
        let (_, targets) = try Attributor(model: TinyCAMNet(), method: .gradCAM, gradCAMLayer: "conv").attribute(x)
        #expect(targets == [0])
    }

    /// A 2×2 map upsampled to 4×4 with PyTorch's bilinear rule (align_corners=False), as
    /// `F.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), (4, 4), mode="bilinear")` gives.
    @Test func upsamplingIsBilinearWithoutCornerAlignment() {
        let a = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let map = Attributor.gradCAMMap(activation: a, gradient: .ones([1, 1, 2, 2]), size: (4, 4))
        #expect(map.scalars == [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
    }
}
