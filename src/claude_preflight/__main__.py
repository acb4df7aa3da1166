"""`python -m claude_preflight`: the same as the `claude-preflight` command."""

import sys

from claude_preflight.cli import main

if __name__ == "__main__":  # importing this module (pkgutil.walk_packages does) must not run a check
    sys.exit(main())
