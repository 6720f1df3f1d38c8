import Testing
import ArgumentParser
@testable import InterpCLI

@Suite struct InterpCLITests {
    @Test func versionFlagPrintsTheVersion() {
        do {
            _ = try Interp.parseAsRoot(["--version"])
            Issue.record("--version should exit cleanly")
        } catch {
            #expect(Interp.message(for: error) == Interp.version)
            #expect(Interp.exitCode(for: error) == .success)
        }
    }

    @Test func helpListsSubcommands() {
        let help = Interp.helpMessage()
        #expect(help.contains("USAGE: interp"))
        #expect(help.contains("ops"))
    }

    @Test func unknownSubcommandIsAnError() {
        #expect(throws: (any Error).self) { try Interp.parseAsRoot(["no-such-command"]) }
    }

    @Test func opsParses() throws {
        let command = try Interp.parseAsRoot(["ops"])
        #expect(command is OpsCommand)
    }
}
