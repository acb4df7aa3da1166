"""`python -m claude_preflight`: the same as the `claude-preflight` command."""

import sys

from claude_preflight.cli import main

sys.exit(main())
