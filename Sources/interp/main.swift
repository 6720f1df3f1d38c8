import InterpCLI

Interp.runMain()
