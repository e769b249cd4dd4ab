"""The REST endpoints, one module per family; SandboxApp mixes them in."""
