"""Attestation verification shared by release publish and verify-release (extra ``verify``)."""
