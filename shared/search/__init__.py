"""Document search port (retrieval for the assistant's answers)."""
