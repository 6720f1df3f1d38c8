import ArgumentParser
import Foundation
import Yams

/// `--config FILE.yaml`: a mapping whose keys are long flag names. Its values are inserted before
/// the command line's own options, so the order of precedence is defaults < config < flags
/// (for a repeated option, the last value wins).
enum ConfigFile {
    struct Error: Swift.Error, CustomStringConvertible { let description: String }

    /// `arguments` (without the program name) with the config file's options spliced in after the
    /// subcommand names.
    static func expand(_ arguments: [String]) throws -> [String] {
        var args = arguments
        guard let i = args.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) else { return args }
        let path: String
        if args[i] == "--config" {
            guard i + 1 < args.count else { throw Error(description: "--config needs a YAML file") }
            path = args[i + 1]
        } else {
            path = String(args[i].dropFirst("--config=".count))
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Error(description: "--config \(path): cannot read the file")
        }
        let parsed: Any?
        do { parsed = try Yams.load(yaml: text) } catch {
            throw Error(description: "--config \(path): not valid YAML (\(String(describing: error).split(separator: "\n").first ?? ""))")
        }
        guard let mapping = parsed as? [String: Any] else {
            throw Error(description: "--config \(path): expected a mapping of option names to values")
        }
        var inserted: [String] = []
        for key in mapping.keys.sorted() where key != "config" {
            let flag = "--" + key
            switch mapping[key] {
            case let b as Bool: if b { inserted.append(flag) }
            case let list as [Any]: inserted += [flag] + list.map { "\($0)" }
            case nil, is NSNull: continue
            case let v?: inserted += [flag, "\(v)"]
            }
        }
        let commandEnd = args.firstIndex { $0.hasPrefix("-") } ?? args.count
        args.insert(contentsOf: inserted, at: commandEnd)
        return args
    }
}

extension Interp {
    /// Entry point: expands `--config`, then parses and runs the command.
    public static func runMain(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        do {
            main(try ConfigFile.expand(arguments))
        } catch {
            FileHandle.standardError.write(Data("interp: error: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }
}
