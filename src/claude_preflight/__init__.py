"""claude-preflight: find what will crash Claude Code before a long session."""

__version__ = "0.1.0"
