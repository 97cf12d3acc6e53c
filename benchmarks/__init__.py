"""Scripts that print figures (run from the repository root: python benchmarks/<name>.py)."""
