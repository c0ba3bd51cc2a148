"""LLM access: chat model adapters (openai SDK), sentence splitting, history budget and the agent."""
