"""Blob storage: the port (base.py) and its adapters (files.py, azure_blob.py)."""
