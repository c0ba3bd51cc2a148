"""SMS port: text the caller."""
