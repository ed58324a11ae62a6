"""The project's own reference networks (trained by scripts/, weights in services/engine/weights/)."""
