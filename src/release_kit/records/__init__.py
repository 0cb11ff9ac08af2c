"""``record`` and ``last-good``: the deployment record on GitHub Deployments (see github/deployments.py)."""
