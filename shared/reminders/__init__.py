"""Reminders: call-backs placed when the assistant's reminders fall due."""
