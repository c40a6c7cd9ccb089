"""A second ``app`` module, to show that two functions' modules never collide."""

from __future__ import annotations

from typing import Any


def which_app(event: Any, context: Any) -> str:
    return "other"
