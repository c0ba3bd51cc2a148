"""The conversation: per-call context, tools, and the two agents (LLM and form-filling)."""
