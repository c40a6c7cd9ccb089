"""A restarted local cloud resumes each shard from its checkpoint: nothing lost, nothing twice."""

from __future__ import annotations

from pathlib import Path

from .conftest import start_cloud, wait_for


def test_restart_resumes_from_the_checkpoint(tmp_path: Path) -> None:
    # GIVEN a local cloud that delivered 5 records, then stopped
    cloud, client = start_cloud(tmp_path, "lc-restart", fire_schedules_at_start=False)
    try:
        for i in range(5):
            client.put("OrderedStream", f"before-{i}", key=f"k{i}")
        wait_for(lambda: sum(map(len, client.batches("Ordered"))) >= 5)
    finally:
        cloud.stop()
    # WHEN it starts again on the same state directory and more records arrive
    cloud, client = start_cloud(tmp_path, "lc-restart", fire_schedules_at_start=False)
    try:
        for i in range(3):
            client.put("OrderedStream", f"after-{i}", key=f"k{i}")
        wait_for(lambda: sum(map(len, client.batches("Ordered"))) >= 8)
        # THEN every record was delivered exactly once across both runs
        delivered = sorted(p for batch in client.batches("Ordered") for p in batch)
        assert delivered == sorted([f"before-{i}" for i in range(5)] + [f"after-{i}" for i in range(3)])
        assert client.status()["mappings"]["Ordered.Records"]["records"] == 3  # this run's deliveries
    finally:
        cloud.stop()
