import Foundation
import NNRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Image {
    /// This image with its aspect kept, shrunk to `width` pixels when wider and enlarged to
    /// `minimumWidth` when narrower: report thumbnails, and tiny inputs (28² digits) made visible.
    func fitted(width: Int, minimumWidth: Int = 0) -> Image {
        let target = self.width > width ? width : Swift.max(self.width, minimumWidth)
        return target == self.width ? self : resized(width: target, height: Swift.max(1, target * height / self.width))
    }
}

/// One image of an image grid: PNG bytes and a caption, optionally highlighted (e.g. the s-AMS of
/// an outlier neuron) and optionally given an element id so other parts of the report can link to it.
public struct ReportImage: Sendable {
    public var png: Data
    public var caption: String
    public var highlighted: Bool
    public var id: String?

    public init(png: Data, caption: String, highlighted: Bool = false, id: String? = nil) {
        self.png = png
        self.caption = caption
        self.highlighted = highlighted
        self.id = id
    }
}

/// A self-contained HTML report, built section by section and written as `report.html`.
///
/// Every analysis (DORA, INVERT, RDR, ROAR) ends in a report a person opens in a browser, possibly
/// offline and long after the run (ARCHITECTURE.md §5). So the file carries everything inline:
/// CSS, a few lines of script, plots as SVG, images as base64 PNG. Building a report is plain value
/// manipulation: methods add sections, text, run settings, tables, figures and image grids in
/// reading order, and ``write(to:)`` replaces the file atomically.
///
/// ```swift
/// var report = Report(title: "DORA: resnet18 layer4", subtitle: "512 neurons, 3 outliers")
/// report.section("Settings")
/// report.keyValues([("model", "resnet18"), ("layer", "layer4")])
/// report.section("Representation atlas", intro: "Hover a point to see its s-AMS.")
/// report.figure(Plot.scatter(points: xy, groups: kinds, ids: names, hoverImages: pngs))
/// try report.write(to: run.appendingPathComponent("report.html"))
/// ```
///
/// The output is deterministic (no timestamps, no random ids), so re-running an analysis gives the
/// same bytes, and it is well-formed XML as well as HTML, which lets tests parse it.
public struct Report {
    public let title: String
    public let subtitle: String?
    private var preamble: [String] = []
    private var sections: [(id: String, title: String, parts: [String])] = []

    public init(title: String, subtitle: String? = nil) {
        self.title = title
        self.subtitle = subtitle
    }

    /// Starts a new section with an `<h2>` heading and an optional introductory paragraph. Sections
    /// are listed in a table of contents at the top once there are two or more.
    public mutating func section(_ title: String, intro: String? = nil) {
        var id = "s-" + ReportHTML.slug(title)
        let base = id
        var k = 2
        while sections.contains(where: { $0.id == id }) { id = "\(base)-\(k)"; k += 1 }
        sections.append((id, title, []))
        if let intro { append("<p class=\"intro\">\(ReportHTML.escape(intro))</p>") }
    }

    /// A paragraph of plain text (escaped; blank lines are kept as line breaks).
    public mutating func paragraph(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { ReportHTML.escape(String($0)) }
        append("<p>\(lines.joined(separator: "<br/>"))</p>")
    }

    /// A two-column table of settings, e.g. the resolved run configuration.
    public mutating func keyValues(_ pairs: [(String, String)]) {
        var s = "<table class=\"kv\"><tbody>\n"
        for (key, value) in pairs {
            s += "<tr><th scope=\"row\">\(ReportHTML.escape(key))</th><td>\(ReportHTML.escape(value))</td></tr>\n"
        }
        append(s + "</tbody></table>")
    }

    /// A data table. Clicking a header sorts by that column (numerically for the columns in
    /// `numericColumns`, which are also right-aligned; missing values last). Short rows are padded
    /// with empty cells. Long tables scroll inside a box with a sticky header.
    public mutating func table(headers: [String], rows: [[String]], caption: String? = nil, numericColumns: Set<Int> = []) {
        let columns = max(headers.count, rows.map(\.count).max() ?? 0)
        let cls = { (c: Int) in numericColumns.contains(c) ? " class=\"num\"" : "" }
        var s = "<div class=\"table-wrap\"><table class=\"data sortable\">\n"
        if let caption { s += "<caption>\(ReportHTML.escape(caption))</caption>\n" }
        s += "<thead><tr>"
        for c in 0..<columns {
            s += "<th scope=\"col\"\(cls(c)) title=\"Click to sort\">\(ReportHTML.escape(c < headers.count ? headers[c] : ""))</th>"
        }
        s += "</tr></thead>\n<tbody>\n"
        for row in rows {
            s += "<tr>"
            for c in 0..<columns { s += "<td\(cls(c))>\(ReportHTML.escape(c < row.count ? row[c] : ""))</td>" }
            s += "</tr>\n"
        }
        append(s + "</tbody></table></div>")
    }

    /// A plot with an optional caption.
    public mutating func figure(_ svg: SVG, caption: String? = nil) {
        var s = "<figure class=\"plot\">\n" + svg.markup + "\n"
        if let caption { s += "<figcaption>\(ReportHTML.escape(caption))</figcaption>\n" }
        append(s + "</figure>")
    }

    /// Thumbnails in a grid of `columns` columns, each with its caption; highlighted images get a
    /// red frame. Images of at most 64 pixels across are enlarged without smoothing, so small
    /// inputs (CIFAR, MNIST, s-AMS at low resolution) show their actual pixels.
    public mutating func imageGrid(_ items: [ReportImage], columns: Int = 6, caption: String? = nil) {
        let columns = max(1, columns)
        var s = "<figure class=\"images\">\n"
        s += "<div class=\"image-grid\" style=\"grid-template-columns: repeat(\(columns), minmax(0, 1fr))\">\n"
        for item in items {
            s += "<figure class=\"thumb\(item.highlighted ? " highlighted" : "")\""
            if let id = item.id { s += " id=\"\(ReportHTML.escape(id))\"" }
            s += ">"
            if item.png.isEmpty {
                s += "<div class=\"missing\">no image</div>"
            } else {
                let small = (ReportPNGInfo.width(of: item.png) ?? 1000) <= 64
                s += "<img src=\"data:image/png;base64,\(item.png.base64EncodedString())\" alt=\"\(ReportHTML.escape(item.caption))\""
                s += small ? " class=\"pixelated\"/>" : "/>"
            }
            s += "<figcaption>\(ReportHTML.escape(item.caption))</figcaption></figure>\n"
        }
        s += "</div>\n"
        if let caption { s += "<figcaption>\(ReportHTML.escape(caption))</figcaption>\n" }
        append(s + "</figure>")
    }

    /// Inserts markup as is. The caller is responsible for escaping and well-formedness.
    public mutating func raw(_ html: String) { append(html) }

    private mutating func append(_ part: String) {
        if sections.isEmpty { preamble.append(part) } else { sections[sections.count - 1].parts.append(part) }
    }

    /// The complete document.
    public func html() -> String {
        var s = "<!DOCTYPE html>\n<html lang=\"en\" xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n"
        s += "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        s += "<meta name=\"generator\" content=\"interp\"/>\n"
        s += "<title>\(ReportHTML.escape(title))</title>\n"
        s += "<style>/*<![CDATA[*/\n\(ReportAssets.css)\n/*]]>*/</style>\n</head>\n<body>\n<main class=\"report\">\n"
        s += "<header class=\"report-header\">\n<h1>\(ReportHTML.escape(title))</h1>\n"
        if let subtitle { s += "<p class=\"subtitle\">\(ReportHTML.escape(subtitle))</p>\n" }
        s += "</header>\n"
        if sections.count >= 2 {
            s += "<nav class=\"toc\"><strong>Contents</strong><ol>\n"
            for section in sections { s += "<li><a href=\"#\(section.id)\">\(ReportHTML.escape(section.title))</a></li>\n" }
            s += "</ol></nav>\n"
        }
        for part in preamble { s += part + "\n" }
        for section in sections {
            s += "<section id=\"\(section.id)\">\n<h2>\(ReportHTML.escape(section.title))</h2>\n"
            for part in section.parts { s += part + "\n" }
            s += "</section>\n"
        }
        s += "<footer>Written by interp. This file is self-contained: plots, images, styles and script are inline and need no network access.</footer>\n"
        s += "</main>\n<script>//<![CDATA[\n\(ReportAssets.script)\n//]]></script>\n</body>\n</html>\n"
        return s
    }

    /// Writes the document to `url`, creating its folder if needed. The bytes go to a temporary
    /// file in the same folder that is then renamed over `url`, so a reader (or an interrupted run)
    /// sees either the old report or the new one, never a partial file.
    public func write(to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ReportError("cannot create the folder \(folder.path) for \(url.lastPathComponent): \(error.localizedDescription)")
        }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UUID().uuidString).tmp")
        do {
            try Data(html().utf8).write(to: temporary)
        } catch {
            try? manager.removeItem(at: temporary)
            throw ReportError("cannot write \(temporary.path): \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? manager.removeItem(at: temporary)
            throw ReportError("cannot replace \(url.path): \(reason)")
        }
    }
}

/// A report could not be written; the message names the file and the reason.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The one fact about a PNG the report needs: how wide it is, read from the IHDR chunk.
enum ReportPNGInfo {
    static func width(of data: Data) -> Int? {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard data.count >= 24, Array(data.prefix(8)) == signature else { return nil }
        let base = data.startIndex + 16
        return (0..<4).reduce(0) { $0 << 8 | Int(data[base + $1]) }
    }
}
