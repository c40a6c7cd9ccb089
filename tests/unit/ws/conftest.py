"""asyncio's event loop wakes itself through a socketpair (AF_UNIX): allowed for the tests that run
a loop; the network stays off."""

from __future__ import annotations

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture
def event_loop_sockets() -> None:
    enable_socket()  # undo the tier's guard, then guard again letting AF_UNIX through
    disable_socket(allow_unix_socket=True)
