"""The composition root: builds the FastAPI app and mounts both surfaces (pages and GraphQL)."""
