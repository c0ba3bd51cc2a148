"""Job queue port: work handed from the call path to background workers (post-call insights)."""
