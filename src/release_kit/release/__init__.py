"""release: wheels, SBOMs, checksums, and (to come) the GitHub Release transaction."""
