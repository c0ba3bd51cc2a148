"""Call recordings: fetching finished recordings (port + adapters) and storing them as blobs."""
