"""The Lambda execution environment: `local`, the faithful container, the emulator client."""
