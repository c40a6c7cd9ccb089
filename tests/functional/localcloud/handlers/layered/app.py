"""A handler that imports from two layers: one with a ``python/`` folder, one without."""

from __future__ import annotations

from typing import Any

import flat_module  # type: ignore[import-not-found]
import layer_module  # type: ignore[import-not-found]


def handler(event: Any, context: Any) -> list[str]:
    return [layer_module.NAME, flat_module.NAME]
