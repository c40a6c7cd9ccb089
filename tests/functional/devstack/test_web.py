"""`make run`'s dashboard server: config.json names the local endpoints, assets are cached by their
hashed names, the page is always revalidated, another host name is redirected to the one origin the
API allows, and a source newer than the build means a rebuild."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

from devstack import web


def _get(port: int, path: str, host: str | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers={"Host": host or f"127.0.0.1:{port}"})
    response = connection.getresponse()
    response.read()
    return response


def test_the_dashboard_server(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>x</title>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    server = web.serve(dist, 0, "http://127.0.0.1:3000", "ws://127.0.0.1:3001/dev")
    port = server.server_address[1]
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/config.json")
        config = connection.getresponse()
        assert config.status == 200
        assert json.loads(config.read()) == {
            "apiUrl": "http://127.0.0.1:3000",
            "wsUrl": "ws://127.0.0.1:3001/dev",
        }
        assert config.getheader("Cache-Control") == "no-cache"
        page = _get(port, "/")
        assert (page.status, page.getheader("Cache-Control")) == (200, "no-cache")
        asset = _get(port, "/assets/index-abc123.js")
        assert asset.status == 200
        assert asset.getheader("Cache-Control") == "public, max-age=31536000, immutable"
        assert "javascript" in (asset.getheader("Content-Type") or "")
        moved = _get(port, "/?product=SPY", host=f"localhost:{port}")
        assert moved.status == 308
        assert moved.getheader("Location") == f"http://127.0.0.1:{port}/?product=SPY"
        assert _get(port, "/missing.js").status == 404
    finally:
        server.shutdown()


def test_a_source_newer_than_the_build_means_stale(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "main.tsx"
    source.write_text("x")
    assert web.stale(tmp_path)  # never built
    (tmp_path / "dist").mkdir()
    index = tmp_path / "dist" / "index.html"
    index.write_text("built")
    os.utime(source, (1_000_000, 1_000_000))
    assert not web.stale(tmp_path)
    os.utime(source, None)  # edited after the build
    os.utime(index, (1_000_000, 1_000_000))
    assert web.stale(tmp_path)
