"""Benchmarks (not tests): see bench/README.md. A package so that the scripts and the tests
import the shared harness as `bench.lib` from the project root."""
