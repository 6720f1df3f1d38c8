import Testing
import NNRuntime

final class LayerPathBlock: Module {
    let fc = Linear(2, 2, seed: 1)
    let relu = ReLU()
    override func forward(_ x: Tensor) -> Tensor { relu(fc(relu(x))) }
}

final class LayerPathNet: Module {
    let features = Sequential(Linear(2, 2, seed: 2), LayerPathBlock(), LayerPathBlock())
    let head_fc = Linear(2, 3, seed: 3)
    override func forward(_ x: Tensor) -> Tensor { head_fc(features(x)) }
}

@Suite struct LayerPathTests {
    let net = LayerPathNet()
    let trunk = ["features.0", "features.1", "features.2", "head_fc"]

    @Test func resolvesDottedUnderscoreCallAndTrunkIndex() throws {
        #expect(try net.resolveLayer("features.1.fc") == LayerPath(path: "features.1.fc"))
        #expect(try net.resolveLayer("features_1_fc") == LayerPath(path: "features.1.fc"))
        #expect(try net.resolveLayer("head_fc") == LayerPath(path: "head_fc"))
        #expect(try net.resolveLayer("features.2.relu@1") == LayerPath(path: "features.2.relu", call: 1))
        #expect(try net.resolveLayer("2", trunk: trunk) == LayerPath(path: "features.2"))
        #expect(try net.resolveLayer("3@1", trunk: trunk).captureName == "head_fc@1")
    }

    @Test func badLayersGiveOneLineErrors() {
        for (spec, fragment) in [("features.9", "unknown layer 'features.9'"), ("7", "outside the trunk 0...3"),
                                 ("features.1.relu@0", "start at 1"), ("features.1.relu@x", "PATH@K")] {
            #expect {
                try net.resolveLayer(spec, trunk: trunk)
            } throws: { error in
                let text = "\(error)"
                return text.contains(fragment) && !text.contains("\n")
            }
        }
    }

    @Test func layerTableListsEveryCallInOrder() {
        let table = net.layerTable(input: .ones([1, 2]), trunk: trunk)
        #expect(table.map(\.name) == ["features", "features.0", "features.1", "features.1.fc", "features.1.relu@1",
                                      "features.1.relu@2", "features.2", "features.2.fc", "features.2.relu@1",
                                      "features.2.relu@2", "head_fc"])
        #expect(table.first { $0.name == "features.1" }?.trunkIndex == 1)
        #expect(table.first { $0.name == "head_fc" }?.outputShape == [1, 3])
        #expect(table.first { $0.name == "features" }?.parameterCount == 18)
        #expect(table.first { $0.name == "features.1.relu@2" }?.type == "ReLU")
    }
}
