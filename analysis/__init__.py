"""The pure core of shadowqa: annotations, matching, agreement and statistics.

Nothing here performs network or database I/O; callers pass parsed data in and
get result objects back.
"""
