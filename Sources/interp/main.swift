import InterpCLI

Interp.main()
