"""Posts/s of each ``@connections`` poster against the test double, the double in its own process
(so it does not share this one's GIL): ``python -m tests.functional.ws.measure_posters [N]``.

Prints, per poster and payload, the first round (connections opened, boto3 client or HTTP channels
built: a cold invocation) and the median of the following rounds (a warm one).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from deltastream.ws.connections import AsyncPoster, Poster, ThreadPoster, management_client
from deltastream.ws.protocol import encode_event
from tests.unit.ws.enriched import enriched_records

_SERVE = """
import time
from tests.functional.ws.connections_double import ConnectionsDouble
server = ConnectionsDouble()
server.start()
print(server.port, flush=True)
while True:
    time.sleep(3600)
"""


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 1_000
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = subprocess.Popen([sys.executable, "-c", _SERVE], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}/dev"
        records = enriched_records()
        payloads = {
            "underlying_update": encode_event("underlying_update", records[2]),
            "chain_update": encode_event("chain_update", records[-1]),
        }
        for name, payload in payloads.items():
            deliveries = [(f"c{i:05d}", payload) for i in range(n)]
            for kind in ("async", "threads"):
                poster: Poster = (
                    AsyncPoster(url) if kind == "async" else ThreadPoster(lambda: management_client(url))
                )
                rates = []
                for _ in range(6):
                    started = time.perf_counter()
                    report = poster.post_many(deliveries)
                    rates.append(n / (time.perf_counter() - started))
                    assert report.sent == n, report
                poster.close()  # type: ignore[attr-defined]
                print(
                    f"{kind:7} {name:17} ({len(payload):>6,} B) × {n:,}: "
                    f"cold {rates[0]:>6,.0f} posts/s, warm {statistics.median(rates[1:]):>6,.0f} posts/s"
                )
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
