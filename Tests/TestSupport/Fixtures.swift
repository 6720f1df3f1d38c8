import Foundation

/// Committed reference fixtures (written by the scripts in Tests/Reference), shipped as the
/// TestSupport bundle's `Fixtures` resource folder.
public enum Fixtures {
    /// The URL of a fixture file, e.g. `Fixtures.url("ops.safetensors")` or `"checkpoints/tiny.pth"`.
    public static func url(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    }
}
