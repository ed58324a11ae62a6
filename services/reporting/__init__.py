"""Turning analysis results into JSON documents and terminal tables."""
