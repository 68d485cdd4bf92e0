"""Global options (``--debug``, ``--quiet``) shared by every command of one invocation."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["State", "STATE"]


@dataclass
class State:
    debug: bool = False
    quiet: bool = False


STATE = State()
