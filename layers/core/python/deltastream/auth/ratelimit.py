"""Failed-login throttling, per account and per source IP (OWASP Authentication Cheat Sheet,
"Protect against automated attacks"; OWASP ASVS V2.2.1).

Two fixed windows of :data:`~deltastream.adapters.redis_keys.LOGIN_FAILURE_WINDOW_S`, each opened by
the first failure it counts:

- per normalised email, :data:`MAX_FAILURES_PER_EMAIL`: stops online guessing against one account
  from any number of addresses; a successful login clears it (the owner is not punished for typos
  once in);
- per source IP, :data:`MAX_FAILURES_PER_IP`: stops one client spraying passwords over many accounts
  (higher, because offices and carrier NATs share addresses).

Once a window holds its maximum, further attempts are refused with 429 and ``Retry-After`` (the
seconds until the window closes) *before* the password is checked, so a blocked attacker learns
nothing more and costs no hashing. Failures are counted for unknown emails too: the limiter must not
be a way to tell which accounts exist. The trade-off is known: anyone can lock an account for one
window by failing on purpose; the window is short so the lock-out is bounded.
"""

from __future__ import annotations

from typing import Final

from deltastream.adapters import redis_keys
from deltastream.api.errors import TooManyRequests
from deltastream.auth.ports import FailureCounters

MAX_FAILURES_PER_EMAIL: Final = 5
MAX_FAILURES_PER_IP: Final = 20


class LoginThrottle:
    """Counts failed logins and refuses attempts over the limits (see the module doc)."""

    def __init__(
        self,
        counters: FailureCounters,
        *,
        window_s: int = redis_keys.LOGIN_FAILURE_WINDOW_S,
        max_per_email: int = MAX_FAILURES_PER_EMAIL,
        max_per_ip: int = MAX_FAILURES_PER_IP,
    ) -> None:
        self._counters = counters
        self.window_s = window_s
        self.max_per_email = max_per_email
        self.max_per_ip = max_per_ip

    def _keys(self, email: str, source_ip: str | None) -> list[tuple[str, int]]:
        keys = [(redis_keys.login_failures_email(email), self.max_per_email)]
        if source_ip:
            keys.append((redis_keys.login_failures_ip(source_ip), self.max_per_ip))
        return keys

    def check(self, email: str, source_ip: str | None) -> None:
        """Raise :class:`TooManyRequests` when ``email`` or ``source_ip`` has used up its failures."""
        blocked, retry_after_s = False, 1
        for key, limit in self._keys(email, source_ip):
            count = self._counters.peek(key)
            if count.value >= limit:
                blocked, retry_after_s = True, max(retry_after_s, count.resets_in_s)
        if blocked:
            raise TooManyRequests(
                f"too many failed logins; try again in {retry_after_s} s", retry_after_s=retry_after_s
            )

    def record_failure(self, email: str, source_ip: str | None) -> None:
        for key, _ in self._keys(email, source_ip):
            self._counters.increment(key, self.window_s)

    def record_success(self, email: str) -> None:
        """Forget the account's failures (the IP's stay: one success must not reset a spray)."""
        self._counters.clear(redis_keys.login_failures_email(email))
