"""One module per agent; each has ``register(app, ...)`` adding its agent to the app."""
