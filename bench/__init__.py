"""Benchmarks. They print figures; nothing here asserts a time. Run all with `make bench`."""
