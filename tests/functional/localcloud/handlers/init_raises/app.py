"""A handler whose module raises at import (a setting missing from the environment)."""

from __future__ import annotations

import os
from typing import Any

TABLE_NAME = os.environ["A_SETTING_NOBODY_SET"]


def handler(event: Any, context: Any) -> str:
    return TABLE_NAME
