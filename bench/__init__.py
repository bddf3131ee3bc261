"""Benchmark harness for issue 8: see bench/README.md."""
