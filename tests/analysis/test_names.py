"""The name table behind the geometry and dataset registries."""

from __future__ import annotations

import pytest

from analysis.exceptions import InvalidInput
from analysis.names import Names


def test_aliases_resolve_conflicts_are_refused_and_removal_takes_the_aliases_along() -> None:
    table: Names[int] = Names("thing")
    table.add("box2d", ("box",), 1)
    table.add("box2d", ("box",), 2)  # the same name again replaces it
    assert (table.canonical("box"), table.values["box2d"], table.names()) == ("box2d", 2, ("box2d",))
    with pytest.raises(InvalidInput, match="already names thing 'box2d'"):
        table.add("mask", ("box",), 3)
    assert table.canonical("mask") is None, "a refused registration leaves nothing behind"
    assert table.remove("box") == 2
    assert (table.canonical("box"), table.canonical("box2d"), table.names()) == (None, None, ())
