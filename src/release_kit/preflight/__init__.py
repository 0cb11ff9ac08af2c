"""preflight: the runbook's pre-deploy checklist judged on what a platform says (never a secret's value)."""
