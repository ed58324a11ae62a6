"""Offline replay of the whole shadow loop in one process (``shadowqa replay``)."""
