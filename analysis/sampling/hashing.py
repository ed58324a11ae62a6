"""Deterministic uniform draws from frame ids, so a replay reproduces the online sample exactly."""

from __future__ import annotations

import hashlib

_SEPARATOR = "\x1f"  # unit separator: no (salt, frame id) pair collides with another by concatenation


def unit_hash(frame_id: str, salt: str) -> float:
    """A number in [0, 1) fixed by (frame id, salt) and uniform over frame ids.

    The top 53 bits of a 64-bit blake2b digest, so the value is an exact double
    below 1: ``u < π`` then samples a frame with probability π, and a different
    salt gives an independent draw for the same frame.
    """
    digest = hashlib.blake2b(f"{salt}{_SEPARATOR}{frame_id}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / float(1 << 53)


def drawn(frame_id: str, salt: str, probability: float) -> bool:
    """Is the frame in the sample of rate ``probability`` named by ``salt``?"""
    return unit_hash(frame_id, salt) < probability
