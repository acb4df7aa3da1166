"""Probes read facts from an Env and return frozen dataclasses: no judgement, no thresholds."""
