"""The schema's limits and value encodings that checks need without SQLAlchemy.

``_values`` checks what callers pass before any write, in processes that never
open a SQL store themselves (their helper process does, see ``mltrail._worker``):
these constants live here so that the checks do not import the schema.
"""

from __future__ import annotations

import functools
import hashlib

__all__ = [
    "KEY_HASH_LENGTH",
    "KIND_FINITE",
    "KIND_NAN",
    "KIND_NEGATIVE_INFINITY",
    "KIND_NEGATIVE_ZERO",
    "KIND_POSITIVE_INFINITY",
    "MAX_ALIAS_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "hash_key",
]

MAX_KEY_LENGTH = 1000
MAX_NAME_LENGTH = 500
MAX_ALIAS_LENGTH = 255
KEY_HASH_LENGTH = 32

# Metric value kinds: MySQL's DOUBLE cannot hold NaN or infinities, so every dialect
# stores a finite, sortable value and this flag.
KIND_FINITE = 0
KIND_NAN = 1
KIND_POSITIVE_INFINITY = 2
KIND_NEGATIVE_INFINITY = 3
KIND_NEGATIVE_ZERO = 4  # SQLite stores -0.0 as the integer 0


@functools.lru_cache(maxsize=4096)  # the same few keys are logged over and over
def hash_key(key: str) -> str:
    """Return the 32-hex-digit digest that identifies ``key`` in indexes."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()
