"""``release-kit init``: the whole runbook in a repository in one command."""
