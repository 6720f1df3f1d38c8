import Foundation
import Testing
import NNRuntime
import NNRuntimeONNX
import TestSupport

/// Small graphs written here: operator semantics with hand-computed answers, finite-difference
/// gradients through the composed kernels, the fixed-batch chunking, and layer addressing.
struct ONNXGraphTests {
    static func input(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var gen = SeededGenerator(seed: seed)
        return Tensor.randn(shape, using: &gen)
    }

    /// HardSwish, nearest and bilinear Resize, a reversed Slice, Pad, Split, Concat, Gather and
    /// Expand, composed from runtime ops: their gradients agree with finite differences.
    @Test func composedKernelsHaveCorrectGradients() throws {
        var g = GraphBuilder()
        g.floats("scales", [4], [1, 1, 2, 2])
        g.ints("starts", [3]); g.ints("ends", [-100]); g.ints("axes", [3]); g.ints("steps", [-2])
        g.ints("pads", [0, 0, 1, 0, 0, 0, 0, 2]); g.ints("split", [1, 1]); g.ints("pick", [1, 0, 1])
        g.ints("shape", [1, 2, 1, 1])
        g.node("HardSwish", ["x"], ["a"])
        g.node("Resize", ["a", "", "scales"], ["b"], [GraphBuilder.attribute("mode", string: "nearest"),
                                                      GraphBuilder.attribute("coordinate_transformation_mode", string: "asymmetric"),
                                                      GraphBuilder.attribute("nearest_mode", string: "floor")])
        g.node("Slice", ["b", "starts", "ends", "axes", "steps"], ["c"])
        g.node("Pad", ["c", "pads"], ["d"])
        g.node("Split", ["d", "split"], ["e0", "e1"], [GraphBuilder.attribute("axis", int: 1)])
        g.node("Mul", ["e0", "e1"], ["f"])
        g.node("Gather", ["d", "pick"], ["h"], [GraphBuilder.attribute("axis", int: 1)])
        g.node("Expand", ["f", "shape"], ["k"])
        g.node("Concat", ["h", "k"], ["m"], [GraphBuilder.attribute("axis", int: 1)])
        g.node("Resize", ["m", "", "scales"], ["y"], [GraphBuilder.attribute("mode", string: "linear")])
        let model = try g.model()
        let x = Self.input([1, 2, 4, 4])
        // Shapes: b [1,2,8,8]; c keeps columns 3, 1 → [1,2,8,2]; d [1,2,9,4]; h [1,3,9,4]; k [1,2,9,4].
        let y = withoutGradients { model(x) }
        #expect(y.shape == [1, 5, 18, 8])
        let report = GradCheck.check([x], kinks: [-3, 3]) { model($0[0]) }
        #expect(report.maxRelativeError < 2e-2, "\(report)")
    }

    /// Slice with a negative step reads columns 3 and 1; Gather with repeats; Squeeze/Unsqueeze by
    /// input (opset 13) and by attribute (opset 11); integer shape arithmetic.
    @Test func operatorValuesByHand() throws {
        var g = GraphBuilder()
        g.inputShape = [1, 1, 2, 4]
        g.ints("starts", [-1]); g.ints("ends", [0]); g.ints("axes", [3]); g.ints("steps", [-2])
        g.node("Slice", ["x", "starts", "ends", "axes", "steps"], ["s"])
        g.node("Shape", ["s"], ["shape"])
        g.node("Reshape", ["s", "shape"], ["y"])
        let model = try g.model()
        let x = Tensor(shape: [1, 1, 2, 4], scalars: [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(withoutGradients { model(x) }.scalars == [3, 1, 7, 5])

        var h = GraphBuilder()
        h.opset = 11
        h.inputShape = [1, 3]
        h.ints("pick", [2, 2, 0])
        h.node("Gather", ["x", "pick"], ["g"], [GraphBuilder.attribute("axis", int: 1)])
        h.node("Unsqueeze", ["g"], ["u"], [GraphBuilder.attribute("axes", ints: [0])])
        h.node("Squeeze", ["u"], ["y"], [GraphBuilder.attribute("axes", ints: [0])])
        #expect(withoutGradients { try! h.model()(Tensor(shape: [1, 3], scalars: [10, 20, 30])) }.scalars == [30, 30, 10])
    }

    /// A graph exported with a fixed batch of 1 runs batches: chunked per sample, each layer
    /// captured as one `[B, …]` tensor through which the gradient flows (GradCAM needs that).
    @Test func fixedBatchGraphsTakeBatches() throws {
        var g = GraphBuilder()
        g.inputShape = [1, 2, 4, 4]
        g.floats("w", [3, 2, 3, 3], (0..<54).map { Float($0 % 7) / 7 - 0.4 })
        g.floats("fc", [5, 48], (0..<240).map { Float($0 % 11) / 11 - 0.5 })
        // Reshape to [4, 12] mixes the samples of a batch: only single-sample chunks keep them apart.
        g.ints("flat", [4, 12])
        g.ints("back", [1, 48])
        g.node("Conv", ["x", "w"], ["c"], name: "/conv/Conv", [GraphBuilder.attribute("pads", ints: [1, 1, 1, 1])])
        g.node("Relu", ["c"], ["r"], name: "/act/Relu")
        g.node("Reshape", ["r", "flat"], ["m"], name: "/Reshape")
        g.node("Softmax", ["m"], ["s"], name: "/Softmax", [GraphBuilder.attribute("axis", int: 0)])
        g.node("Reshape", ["s", "back"], ["f"], name: "/Reshape_1")
        g.node("Gemm", ["f", "fc"], ["y"], name: "/head/Gemm", [GraphBuilder.attribute("transB", int: 1)])
        let model = try g.model()
        #expect(!model.runsWholeBatches, "the softmax over rows ties the graph to batch 1")
        #expect(model.trunk == ["conv", "act", "Reshape", "Softmax", "Reshape_1", "head"])
        #expect(try model.resolveLayer("r").path == "act", "tensor names resolve to their node's module")
        #expect(try model.resolveLayer("/act/Relu").path == "act")
        #expect(try model.resolveLayer("1", trunk: model.trunk).path == "act")
        #expect(model.gradCAMLayer == "act")
        #expect(model.namedModules().first { $0.0 == "act" }?.1.typeName == "ReLU")

        let x = Self.input([3, 2, 4, 4])
        let (batched, acts) = withoutGradients { capturingActivations(["act"]) { model(x) } }
        #expect(batched.shape == [3, 5])
        #expect(acts["act"]?.shape == [3, 3, 4, 4])
        for i in 0..<3 {
            let single = withoutGradients { model(x.slice(axis: 0, start: i, end: i + 1)) }
            #expect(maxAbsDifference(single, batched.slice(axis: 0, start: i, end: i + 1)) < 1e-6)
        }
        // The gradient at the captured [3, …] tensor is, per sample, that of the sample run alone.
        func activationGradient(_ input: Tensor) throws -> Tensor {
            let tape = GradientTape()
            let xs = tape.watch(input)
            let (loss, captured) = tape.record { () -> (Tensor, Tensor) in
                let (y, a) = capturingActivations(["act"]) { model(xs) }
                return (y.sum(), a["act"]!)
            }
            return try #require(tape.gradient(of: loss)[captured])
        }
        let batchGradient = try activationGradient(x)
        let alone = try activationGradient(x.slice(axis: 0, start: 2, end: 3))
        #expect(maxAbsValue(alone) > 0)
        #expect(maxAbsDifference(batchGradient.slice(axis: 0, start: 2, end: 3), alone) < 1e-5)
    }

    /// A fixed batch of 1 that only a `Reshape` to `[1, 48]` spells out runs whole batches.
    @Test func fixedBatchGraphsWithoutBatchSpecificOpsRunWhole() throws {
        var g = GraphBuilder()
        g.inputShape = [1, 2, 4, 4]
        g.floats("w", [3, 2, 3, 3], (0..<54).map { Float($0 % 5) / 5 - 0.3 })
        g.ints("flat", [1, 48])
        g.node("Conv", ["x", "w"], ["c"], [GraphBuilder.attribute("pads", ints: [1, 1, 1, 1])])
        g.node("Reshape", ["c", "flat"], ["y"])
        let model = try g.model()
        #expect(model.runsWholeBatches)
        let x = Self.input([3, 2, 4, 4])
        let y = withoutGradients { model(x) }
        #expect(y.shape == [3, 48])
        let last = withoutGradients { model(x.slice(axis: 0, start: 2, end: 3)) }
        #expect(maxAbsDifference(last, y.slice(axis: 0, start: 2, end: 3)) < 1e-6)
    }

    /// Scope names give PyTorch module paths; single-node scopes are the node itself, and a scope
    /// with several nodes returns its last node's output.
    @Test func scopesBecomeModulePaths() throws {
        var g = GraphBuilder()
        g.inputShape = [1, 2, 4, 4]
        g.floats("w", [2, 2, 1, 1], [1, 0, 0, 1])
        g.node("Conv", ["x", "w"], ["c"], name: "/block/block.conv/Conv")
        g.node("Relu", ["c"], ["r"], name: "/block/block.relu/Relu")
        g.node("Add", ["r", "x"], ["s"], name: "/block/Add")
        g.node("Relu", ["s"], ["y"], name: "/block/block.relu_1/Relu")
        let model = try g.model()
        #expect(model.trunk == ["block.conv", "block.relu", "block.Add", "block.relu_1"])
        let x = Self.input([1, 2, 4, 4])
        let (_, acts) = withoutGradients { capturingAllActivations { model(x) } }
        #expect(acts["block"]!.scalars == acts["block.relu_1"]!.scalars)
        #expect(acts.calls.map(\.path) == ["block.conv", "block.relu", "block.Add", "block.relu_1", "block", ""])
    }
}
