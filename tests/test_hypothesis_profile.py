"""A saved failing example must not make a clean checkout's test run differ from CI's."""

import os

from hypothesis import settings


def test_default_profile_is_derandomised_without_a_database():
    if os.environ.get("NETGRAPH_HYPOTHESIS", "default") != "default":
        return  # someone asked to explore on purpose
    assert settings.default.derandomize is True
    assert settings.default.database is None
