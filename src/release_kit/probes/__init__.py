"""Deploy probes: ``release-kit health`` (readiness polling) and ``release-kit smoke`` (flows of HTTP steps)."""
