"""The ``shadowqa`` command line."""
