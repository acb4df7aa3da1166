"""From a clone, `pytest checks` runs the suite: this loads the plugin (installed, the console command does)."""

pytest_plugins = ["claude_preflight.plugin"]
