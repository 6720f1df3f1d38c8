import Foundation
import Testing
@testable import NNRuntime

/// Concept labels in the layouts INVERT and DORA's probes read, matched to a dataset's images.
@Suite struct ConceptTableTests {
    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("concepts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func write(_ text: String, _ url: URL) throws { try Data(text.utf8).write(to: url) }

    @Test func csvRowsMatchByPathRelativeNameAndUniqueFileName() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("concepts.csv")
        try write("image,red,round\ntest/a/001.png,1,0\ntest/b/002.png,0,1\ntrain/a/001.png,1,1\nextra/003.png,0,0\n", csv)
        try write(#"{"red": {"name": "red", "description": "the object is red"}, "round": {"name": "roundish", "description": "curved"}}"#,
                  dir.appendingPathComponent("concepts.json"))
        let table = try ConceptTable.load(contentsOf: csv)
        #expect(table.concepts == ["red", "round"])
        #expect(table.displayName(1) == "roundish" && table.descriptions["red"]?.description == "the object is red")
        let items: [(url: URL?, name: String)] = [
            (dir.appendingPathComponent("test/b/002.png"), "b/002.png"),   // absolute path
            (nil, "train/a/001.png"),                                      // the name as the CSV spells it
            (URL(fileURLWithPath: "/elsewhere/003.png"), "003.png"),       // unique file name
        ]
        #expect(try table.rows(for: items, source: "concepts.csv") == [1, 2, 3])
        // 001.png names two rows: a file name alone does not pick one.
        #expect { try table.rows(for: [(URL(fileURLWithPath: "/x/001.png"), "001.png")], source: "concepts.csv") } throws: {
            "\($0)".contains("001.png has no row in concepts.csv")
        }
    }

    @Test func labelMatrixFollowsTheDataOrderWithIndexedDescriptions() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let npy = dir.appendingPathComponent("labels.npy")
        try NPY.write(Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1]), to: npy)
        let json = dir.appendingPathComponent("desc.json")
        try write(#"{"0": {"name": "tench.n.01", "definition": "a fish", "offset": "n01440764"}, "1": {"name": "box.n.01", "definition": "a container"}}"#, json)
        let table = try ConceptTable.load(contentsOf: npy, descriptions: json)
        #expect(table.concepts == ["tench.n.01", "box.n.01"])
        #expect(table.descriptions["box.n.01"]?.description == "a container")
        #expect(table.labels == [[true, false], [false, true], [true, true]])
        let three: [(url: URL?, name: String)] = (0..<3).map { (nil, "row \($0)") }
        #expect(try table.rows(for: three, source: "labels.npy") == [0, 1, 2])
        #expect { try table.rows(for: Array(three.prefix(2)), source: "labels.npy") } throws: { "\($0)".contains("3 rows but the data has 2 images") }
        let unnamed = try ConceptTable.load(contentsOf: npy, descriptions: nil)
        #expect(unnamed.concepts == ["c0", "c1"])
    }

    @Test func badFilesGiveOneLineErrors() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, String, String)] = [
            ("a.csv", "image,red\nx.png,2\n", "'2' is not 0 or 1"),
            ("b.csv", "name,red\nx.png,1\n", "header must be 'image,<concept>,…'"),
            ("c.csv", "image,red,red\nx.png,1,0\n", "appears twice"),
            ("d.csv", "image,red\nx.png\n", "line 2: 1 fields, expected 2"),
            ("e.tsv", "image\tred\n", "expected a .csv"),
        ]
        for (name, text, message) in cases {
            let url = dir.appendingPathComponent(name)
            try write(text, url)
            #expect { try ConceptTable.load(contentsOf: url) } throws: { e in
                "\(e)".contains(message) && !"\(e)".contains("\n")
            }
        }
        let npy = dir.appendingPathComponent("m.npy")
        try NPY.write(Tensor(shape: [2, 2], scalars: [1, 0, 0.5, 1]), to: npy)
        #expect { try ConceptTable.load(contentsOf: npy) } throws: { "\($0)".contains("value 0.5 at row 1, column 0 is not 0 or 1") }
        let json = dir.appendingPathComponent("bad.json")
        try write("[1, 2]", json)
        #expect { try ConceptTable.load(contentsOf: npy, descriptions: json) } throws: { "\($0)".contains("expected an object keyed by concept column") }
    }
}
