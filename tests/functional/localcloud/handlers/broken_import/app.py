"""A handler whose module cannot be imported (a dependency missing from the package)."""

from __future__ import annotations

from typing import Any

import a_module_that_is_not_installed  # type: ignore[import-not-found]


def handler(event: Any, context: Any) -> Any:
    return a_module_that_is_not_installed.run(event)
