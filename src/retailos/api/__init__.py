"""The HTTP API: one FastAPI app that mounts each package's router."""
