"""Training of the reference models (run by `make models`; never at test or run time)."""
