"""One way to turn a user's ``random_state`` into the generators and seeds code needs.

Every public function that draws random numbers takes ``random_state`` (None, an int
seed or a numpy Generator) and calls :func:`as_generator` once; libraries that want an
integer seed (scikit-learn, graspologic-native) get one from :func:`seed_from`, so a
single seed fixes every draw of a run, as in scikit-learn's ``check_random_state``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from netgraph.errors import InvalidParameterError

__all__ = ["as_generator", "seed_from"]


def as_generator(random_state: Any, *, owner: str = "this function") -> np.random.Generator:
    """``None``, an int seed or a Generator → a Generator (a given Generator is used as is).

    Examples
    --------
    >>> as_generator(3).integers(100) == as_generator(3).integers(100)
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)):
        return np.random.default_rng(random_state)
    raise InvalidParameterError.expected("random_state", owner, "None, an int seed or a numpy Generator", random_state)


def seed_from(generator: np.random.Generator) -> int:
    """An integer seed in [0, 2**31 - 1) drawn from ``generator`` (for libraries that take one)."""
    return int(generator.integers(0, 2**31 - 1))
