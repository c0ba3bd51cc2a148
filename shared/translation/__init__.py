"""Translation port (base.py), Azure AI Translator adapter, the phrases in any call language."""
