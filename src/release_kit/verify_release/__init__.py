"""verify-release: prove a published release is complete and every asset is attested by the right workflow."""
