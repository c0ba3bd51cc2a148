"""Tests of the local stand-ins (scripted LLM server)."""
