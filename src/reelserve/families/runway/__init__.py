"""The Runway family (spec §1.1-1.3): generate, extend, record-detail."""
