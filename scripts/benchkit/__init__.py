"""The benchmarks of scripts/bench, one module per kind of job."""
