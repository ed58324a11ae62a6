"""Matching automation objects to manual objects: optimal, pycocotools-exact, class-agnostic."""

from analysis.matching.match import close_pairs, match, matching_geometry
from analysis.matching.types import METHODS, Matches, MatchOptions

__all__ = ["METHODS", "MatchOptions", "Matches", "close_pairs", "match", "matching_geometry"]
