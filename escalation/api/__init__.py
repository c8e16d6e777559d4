"""The FastAPI service (agent API, console, demo chat page)."""
