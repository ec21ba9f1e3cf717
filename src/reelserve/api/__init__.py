"""HTTP API: one module per dialect, plus the envelope, body parsing and dependencies."""
