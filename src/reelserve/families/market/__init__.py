"""The market family (spec §2, kie-families.md §2): createTask, recordInfo, the model catalogue."""
