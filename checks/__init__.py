"""The checks: one module per crash-cause family. Thin: get facts, evaluate, return the Result."""
