import ArgumentParser
import Foundation
import NNRuntime
import Attribution
import ROAR

/// `interp perturb`: MoRF/LeRF pixel-perturbation curves of attribution methods (the ROAR port's
/// relative probability change, or Samek et al.'s region perturbation with AOPC), without retraining.
struct PerturbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perturb",
        abstract: "MoRF/LeRF perturbation curves of attribution maps (relative probability change, or regions with AOPC).",
        discussion: """
        pixel mode (default): for each percentage, the pixels a map ranks highest (MoRF) or lowest (LeRF) are set \
        to the dataset-mean colour and the relative change of the predicted class's probability is averaged \
        (saurabheights/ROAR). region mode: --region×--region patches, most relevant first, are replaced \
        cumulatively by uniform noise and the drop of the class logit is averaged; AOPC summarises each curve \
        (Samek et al. 2017). A good map drops fast under MoRF and slowly under LeRF.
        """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable { case pixel, region }

    @OptionGroup var model: ModelOptions
    @Option(help: "Images: a folder, an image file, or a fetched sample set such as foolbox-imagenet.") var data: String
    @OptionGroup var methods: AttributionOptionGroup
    @Option(help: ArgumentHelp("Pixel mode: percentages of pixels, e.g. 1-10 or 1,2,5,10.", valueName: "list")) var percentiles = "1-10"
    @Option(help: "pixel (relative probability change) or region (logit drop, AOPC).") var mode: Mode = .pixel
    @Option(help: "Region mode: side of the square regions in pixels.") var region = 9
    @Option(help: "Region mode: regions perturbed, one after another.") var regions = 100
    @Option(help: "Use at most this many images (in order).") var limit: Int?
    @Option(help: "Images per call of the attribution methods.") var batchSize = 8
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        _ = try parsedPercentiles()
        if region < 1 || regions < 1 { throw ValidationError("--region and --regions must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func parsedPercentiles() throws -> [Double] { try parsePercentages(percentiles, flag: "--percentiles") }

    func run() throws {
        try reportingErrors {
            runOptions.applyThreads()
            let started = Date()
            let loaded = try model.load()
            let attributors = try methods.attributors(for: loaded, seed: model.seed)
            var items = try ImageFiles.resolve(data)
            if let limit { items = Array(items.prefix(limit)) }
            let config: [String: Any] = ["model": model.model, "weights": model.weights as Any? ?? NSNull(), "data": data,
                                         "attribution": attributors.map(\.method.rawValue), "mode": mode.rawValue,
                                         "percentiles": try parsedPercentiles(), "region": region, "regions": regions,
                                         "limit": limit as Any? ?? NSNull(), "seed": model.seed]
            let folder = try RunFolder.open(command: "perturb", config: config, options: runOptions)
            let pixel = PixelPerturbation(percentiles: try parsedPercentiles())
            let regional = RegionPerturbation(region: region, steps: regions, seed: model.seed, mean: loaded.input.mean, std: loaded.input.std)
            var sums: [String: PerturbationCurves] = [:]
            let bar = ProgressBar(label: "perturb")
            for start in stride(from: 0, to: items.count, by: batchSize) {
                let batch = Array(items[start..<min(start + batchSize, items.count)])
                let x = loaded.input.batch(try batch.map { try Image.load(contentsOf: $0.url) })
                for a in attributors {
                    let maps = try a.attribute(x).maps
                    let curves = mode == .pixel ? try pixel.run(model: loaded.module, inputs: x, maps: maps)
                                                : try regional.run(model: loaded.module, inputs: x, maps: maps)
                    sums[a.method.rawValue] = Self.accumulate(sums[a.method.rawValue], curves, weight: Double(batch.count))
                }
                bar.update(start + batch.count, items.count, "images")
            }
            bar.finish("\(items.count) images, \(attributors.count) method(s)")
            let n = Double(items.count)
            let curves = sums.mapValues { Self.scaled($0, by: 1 / n) }
            var result: [String: Any] = ["model": loaded.name, "images": items.count, "mode": mode.rawValue,
                                         "seconds": (Date().timeIntervalSince(started) * 10).rounded() / 10]
            result["methods"] = curves.mapValues { c -> [String: Any] in
                mode == .pixel ? ["percentiles": c.steps, "morf": c.morf, "lerf": c.lerf, "morf_auc": c.morfArea, "lerf_auc": c.lerfArea]
                               : ["regions": c.steps, "morf": c.morf, "lerf": c.lerf, "aopc_morf": c.morfArea, "aopc_lerf": c.lerfArea]
            }
            try folder.writeJSON(result, to: "result.json")
            try PerturbReport(model: loaded.name, data: data, images: items.count, mode: mode, region: region,
                              order: attributors.map(\.method.rawValue), curves: curves).build().write(to: folder.file("report.html"))
            if runOptions.json { print(try jsonText(result)); return }
            let unit = mode == .pixel ? "area (%·pp)" : "AOPC"
            printTable(["method", "MoRF \(unit)", "LeRF \(unit)"], attributors.map { a in
                let c = curves[a.method.rawValue]!
                return [a.method.rawValue, String(format: "%.3f", c.morfArea), String(format: "%.3f", c.lerfArea)]
            })
            print("report: \(folder.file("report.html").path)")
        }
    }

    static func accumulate(_ total: PerturbationCurves?, _ c: PerturbationCurves, weight: Double) -> PerturbationCurves {
        let w = scaled(c, by: weight)
        guard let total else { return w }
        return PerturbationCurves(steps: c.steps, morf: zip(total.morf, w.morf).map(+), lerf: zip(total.lerf, w.lerf).map(+),
                                  morfArea: total.morfArea + w.morfArea, lerfArea: total.lerfArea + w.lerfArea)
    }

    static func scaled(_ c: PerturbationCurves, by k: Double) -> PerturbationCurves {
        PerturbationCurves(steps: c.steps, morf: c.morf.map { $0 * k }, lerf: c.lerf.map { $0 * k },
                           morfArea: c.morfArea * k, lerfArea: c.lerfArea * k)
    }
}

/// `interp perturb`'s report: MoRF and LeRF curves per method, and their areas.
struct PerturbReport {
    let model: String, data: String, images: Int
    let mode: PerturbCommand.Mode, region: Int
    let order: [String]
    let curves: [String: PerturbationCurves]

    func build() -> Report {
        var report = Report(title: "Pixel perturbation: \(order.joined(separator: ", "))", subtitle: "model \(model) · \(images) images of \(data)")
        let pixel = mode == .pixel
        report.section("Run")
        report.keyValues([("model", model), ("data", data), ("images", "\(images)"),
                          ("mode", pixel ? "pixel: relative change of the predicted class's probability (%)" : "region \(region)×\(region): drop of the class logit")])
        let x = pixel ? "pixels replaced (%)" : "regions replaced", y = pixel ? "relative probability change (%)" : "logit drop"
        report.section("Curves", intro: "Most relevant first (MoRF) should change the prediction fast; least relevant first (LeRF) slowly.")
        for (name, pick) in [("MoRF", \PerturbationCurves.morf), ("LeRF", \PerturbationCurves.lerf)] {
            report.figure(Plot.lines(order.map { m in (name: m, points: zip(curves[m]!.steps, curves[m]![keyPath: pick]).map { ($0, $1) }) },
                                     title: "\(name): \(pixel ? "pixels" : "regions") \(name == "MoRF" ? "most" : "least") relevant first",
                                     xLabel: x, yLabel: y, width: 560, height: 360))
        }
        let unit = pixel ? "area under the curve" : "AOPC"
        report.table(headers: ["method", "MoRF \(unit)", "LeRF \(unit)", "MoRF − LeRF"],
                     rows: order.map { m in
                         let c = curves[m]!
                         return [m, String(format: "%.4f", c.morfArea), String(format: "%.4f", c.lerfArea), String(format: "%.4f", c.morfArea - c.lerfArea)]
                     }, caption: pixel ? "Trapezoidal areas over the percentage axis" : "Area over the perturbation curve, averaged over the regions", numericColumns: [1, 2, 3])
        return report
    }
}
