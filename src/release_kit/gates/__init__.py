"""verify-gates: prove that every release gate is green for the exact commit."""
