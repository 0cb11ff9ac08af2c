"""publish-images: registries, image references, OCI image layouts and the push engine."""
