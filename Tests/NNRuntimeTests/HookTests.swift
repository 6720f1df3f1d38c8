import Testing
import NNRuntime
import TestSupport

/// A two-layer net with hand-picked weights, small enough to differentiate on paper.
private func handNet() -> Sequential {
    let fc1 = Linear(2, 2), fc2 = Linear(2, 1)
    fc1.weight.value = Tensor(shape: [2, 2], scalars: [1, -1, 2, 0.5])
    fc1.bias!.value = Tensor([0, -1])
    fc2.weight.value = Tensor(shape: [1, 2], scalars: [3, -2])
    fc2.bias!.value = Tensor([0.5])
    return Sequential(fc1, ReLU(), fc2)
}

/// A block that calls one `relu` module twice, as torchvision's ResNet BasicBlock does.
private final class TwiceBlock: Module {
    let fc1 = Linear(3, 3, seed: 1)
    let fc2 = Linear(3, 3, seed: 2)
    let relu = ReLU()
    override func forward(_ x: Tensor) -> Tensor { relu(fc2(relu(fc1(x)))) }
}

@Suite struct HookTests {
    @Test func capturedActivationAndGradientMatchHandComputation() {
        let net = handNet()
        let tape = GradientTape()
        let x = tape.watch(Tensor(shape: [1, 2], scalars: [1, 2]))
        let (y, acts) = tape.record { capturingActivations(["0", "1"]) { net(x) } }
        // h = W1·x + b1 = [1·1 − 1·2 + 0, 2·1 + 0.5·2 − 1] = [−1, 2]; r = relu(h) = [0, 2]
        // y = 3·0 − 2·2 + 0.5 = −3.5
        #expect(y.scalars == [-3.5])
        #expect(acts["0"]!.scalars == [-1, 2])
        #expect(acts["1"]!.scalars == [0, 2])
        let g = tape.gradient(of: y)
        // dy/dr = W2 = [3, −2]; dy/dh = W2 ⊙ relu'(h) = [0, −2]; dy/dx = W1ᵀ·[0, −2] = [−4, −1]
        #expect(g[acts["1"]!]!.scalars == [3, -2])
        #expect(g[acts["0"]!]!.scalars == [0, -2])
        #expect(g[x]!.scalars == [-4, -1])
    }

    @Test func moduleCalledTwiceIsCapturedAtLastCallAndEachCallByIndex() {
        let block = TwiceBlock()
        var gen = SeededGenerator(seed: 5)
        let input = Tensor.randn([2, 3], using: &gen)
        let tape = GradientTape()
        let x = tape.watch(input)
        let ((y, total), acts) = tape.record { capturingActivations(["relu", "fc1"]) { () -> (Tensor, Tensor) in
            let y = block(x)
            return (y, y.sum())
        } }
        #expect(acts.callCount("relu") == 2)
        #expect(acts.callCount("fc1") == 1)
        // The first call's output is relu(fc1(x)); the last call's is the block output.
        let first = withoutGradients { relu(block.fc1(input)) }
        #expect(acts["relu@1"]!.scalars == first.scalars)
        #expect(acts["relu@2"]!.scalars == y.scalars)
        #expect(acts["relu"]!.scalars == y.scalars, "plain path = last call, as a PyTorch hook leaves it")
        #expect(acts["relu@3"] == nil)
        // Gradients reach each call separately: d(sum y)/d(relu@1) = fc2ᵀ applied to relu'(pre2).
        let g = tape.gradient(of: total)
        let pre2 = withoutGradients { block.fc2(first) }
        let expected = withoutGradients {
            matmul(pre2.greaterMask(than: 0), block.fc2.weight.value)
        }
        #expect(Compare.close(g[acts["relu@1"]!]!, expected, tolerance: 1e-6))
        #expect(g[acts["relu@2"]!]!.scalars == [Float](repeating: 1, count: 6))
    }

    @Test func captureWithoutTapeAndOfEveryModule() {
        let net = handNet()
        let (_, acts) = capturingAllActivations { net(Tensor(shape: [1, 2], scalars: [1, 2])) }
        #expect(acts.capturedPaths == ["", "0", "1", "2"])
        #expect(acts["2"]!.scalars == [-3.5])
        #expect(acts[""]!.scalars == [-3.5])
    }

    @Test func guidedBackpropChangesExactlyReLUAndReLU6Backward() {
        var gen = SeededGenerator(seed: 11)
        let net = Sequential(Linear(4, 6, seed: 1), ReLU(), Linear(6, 5, seed: 2), ReLU6(), Linear(5, 3, seed: 3))
        let input = Tensor.randn([2, 4], std: 2, using: &gen)
        let seed = Tensor.randn([2, 3], using: &gen)

        func grad(rules: [BackwardRule]) -> (Tensor, ActivationCapture) {
            let tape = GradientTape(rules: rules)
            let x = tape.watch(input)
            let (y, acts) = tape.record { capturingAllActivations { net(x) } }
            return (tape.gradient(of: y, seed: seed)[x]!, acts)
        }
        let (plain, acts) = grad(rules: [])
        let (guided, _) = grad(rules: BackwardRule.guidedBackprop)

        // Hand-chained guided gradient: at each ReLU/ReLU6 pass max(g, 0) where the unit was active.
        let w1 = (net[0] as! Linear).weight.value, w2 = (net[2] as! Linear).weight.value
        let w3 = (net[4] as! Linear).weight.value
        let h1 = acts["0"]!, h2 = acts["2"]!
        let expected = withoutGradients { () -> Tensor in
            var g = matmul(seed, w3)                                                    // d/d relu6 out
            g = g.clamped(min: 0) * h2.greaterMask(than: 0) * h2.lessMask(than: 6)     // guided ReLU6
            g = matmul(g, w2)                                                           // d/d relu out
            g = g.clamped(min: 0) * h1.greaterMask(than: 0)                             // guided ReLU
            return matmul(g, w1)
        }
        let unguided = withoutGradients { () -> Tensor in
            var g = matmul(seed, w3)
            g = g * h2.greaterMask(than: 0) * h2.lessMask(than: 6)
            g = matmul(g, w2)
            g = g * h1.greaterMask(than: 0)
            return matmul(g, w1)
        }
        #expect(Compare.close(guided, expected, tolerance: 1e-6))
        #expect(Compare.close(plain, unguided, tolerance: 1e-6))
        #expect(!Compare.close(guided, plain, tolerance: 1e-3), "the rule must change something here")
    }

    @Test func guidedRuleLeavesOtherOpsAndFunctionalReLUAlone() {
        var gen = SeededGenerator(seed: 2)
        let fc = Linear(3, 4, seed: 4)
        let input = Tensor.randn([2, 3], using: &gen)
        func grad(_ rules: [BackwardRule]) -> Tensor {
            let tape = GradientTape(rules: rules)
            let x = tape.watch(input)
            // relu called as a function, not through a ReLU module: captum leaves it unguided too.
            let y = tape.record { relu(fc(x)).sigmoid().sum() }
            return tape.gradient(of: y)[x]!
        }
        #expect(grad([]).scalars == grad(BackwardRule.guidedBackprop).scalars)
    }

    @Test func noGradientScopeRecordsNothing() {
        let tape = GradientTape()
        let x = tape.watch(Tensor([1, 2, 3]))
        let inside = tape.record { withoutGradients { isRecordingGradients } }
        _ = tape.record { withoutGradients { (x * 2).sum() } }
        #expect(!inside)
        #expect(tape.nodeCount == 1, "only the leaf")
        let y = tape.record { (x * 2).sum() }
        #expect(tape.nodeCount == 3, "leaf, mul, sum")
        #expect(tape.gradient(of: y)[x]!.scalars == [2, 2, 2])
        #expect(!isRecordingGradients)
        // A function that ignores its input has a zero gradient.
        #expect(gradient(at: Tensor([1, 2])) { _ in Tensor(3) }.scalars == [0, 0])
    }

    @Test func parameterGradientsByPath() {
        let net = handNet()
        let x = Tensor(shape: [1, 2], scalars: [1, 2])
        let (loss, grads) = valueAndGradient(of: net) { m in m(x).sum() }
        #expect(loss.scalars == [-3.5])
        // dy/dW2 = relu(h) = [0, 2]; dy/db2 = 1; dy/dW1 = [0, −2]ᵀ·x = [[0, 0], [−2, −4]]; dy/db1 = [0, −2]
        #expect(grads["2.weight"]!.scalars == [0, 2])
        #expect(grads["2.bias"]!.scalars == [1])
        #expect(grads["0.weight"]!.scalars == [0, 0, -2, -4])
        #expect(grads["0.bias"]!.scalars == [0, -2])
        #expect(!isRecordingGradients)
        // Parameters are untraced again after the call.
        let (_, again) = valueAndGradient(of: net) { m in (m(x) * 2).sum() }
        #expect(again["2.bias"]!.scalars == [2])
    }
}
