"""Developer and deployment scripts (the Python ones are importable for their tests)."""
