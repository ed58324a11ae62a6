"""The built-in dataset profiles are registered for every loop test (as the CLI and the workers do)."""

import services.datasets.profiles  # noqa: F401
