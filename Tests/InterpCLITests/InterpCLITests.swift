import Testing
@testable import InterpCLI

@Suite struct InterpCLITests {
    @Test func versionMatchesConfiguration() {
        #expect(Interp.configuration.version == Interp.version)
    }
}
