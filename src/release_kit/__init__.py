"""release-kit: enforced, evidenced release steps for GitHub Actions."""

__version__ = "0.1.0"
