"""Benchmarks of the generated clients against googleapiclient: ``python -m benchmarks``."""
