"""Rules turn facts into Results; the remediation sits beside the condition that triggers it."""
