"""The automation engine: frame sources, torch model runners, and the results they emit."""
