"""The deploy half of the runbook: settings, platform facts, preflight checks, rollout."""
