"""fetch_snap against a real HTTP server on 127.0.0.1 serving tiny gzip files."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading

import pytest
import requests

from checkin_traj.data import fetch
from checkin_traj.data.fetch import (
    SNAP_REGISTRY,
    ChecksumError,
    DownloadError,
    SnapFile,
    count_lines,
    fetch_snap,
)

CHECKINS = b"0\t2010-10-19T23:55:27Z\t30.2359091167\t-97.7951395833\t22847\n" * 3
EDGES = b"0\t1\n1\t0\n"
CHECKINS_GZ = gzip.compress(CHECKINS, mtime=0)
EDGES_GZ = gzip.compress(EDGES, mtime=0)
SERVER_LIFETIME_S = 60  # the test server shuts itself down after this long, whatever happens


class TinyServer:
    """A threaded HTTP server serving ``files`` (URL path -> bytes), recording requests.

    Paths in ``truncate`` are answered with a Content-Length larger than the body, then the
    connection is closed: an interrupted transfer.
    """

    def __init__(self, files):
        self.files = dict(files)
        self.requests = []
        self.truncate = set()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if self.path in server.truncate:
                    self.send_header("Content-Length", str(len(body) + 1000))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.timer = threading.Timer(SERVER_LIFETIME_S, self.httpd.shutdown)
        self.timer.daemon = True

    def __enter__(self):
        self.thread.start()
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def registry(monkeypatch):
    """A test-only registry of two tiny files with their real hashes."""
    entries = {
        "tiny_checkins.txt.gz": SnapFile("http://unused.invalid/tiny_checkins.txt.gz", _sha256(CHECKINS_GZ), 3),
        "tiny_edges.txt.gz": SnapFile(
            "http://unused.invalid/tiny_edges.txt.gz", "md5:" + hashlib.md5(EDGES_GZ).hexdigest(), 2
        ),
    }
    monkeypatch.setattr(fetch, "SNAP_REGISTRY", entries)
    monkeypatch.delenv(fetch.CACHE_ENV, raising=False)
    monkeypatch.delenv(fetch.URL_ENV, raising=False)
    return entries


@pytest.fixture
def server():
    with TinyServer({"/tiny_checkins.txt.gz": CHECKINS_GZ, "/tiny_edges.txt.gz": EDGES_GZ}) as running:
        yield running


def _cache_files(cache):
    return sorted(p.name for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_download_then_cached_copy_is_reused_without_a_request(registry, server, tmp_path):
    cache = tmp_path / "cache"
    path = fetch_snap("tiny_checkins.txt.gz", cache_dir=cache, base_url=server.base_url, progress=False)
    assert path == cache / "tiny_checkins.txt.gz"
    assert path.read_bytes() == CHECKINS_GZ
    assert server.requests == ["/tiny_checkins.txt.gz"]

    again = fetch_snap("tiny_checkins.txt.gz", cache_dir=cache, base_url=server.base_url, progress=False)
    assert again == path
    assert server.requests == ["/tiny_checkins.txt.gz"]  # no second request


def test_md5_registry_entry_is_verified(registry, server, tmp_path):
    path = fetch_snap("tiny_edges.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)
    assert gzip.decompress(path.read_bytes()) == EDGES


def test_progress_bar_is_drawn(registry, server, tmp_path, capsys):
    fetch_snap("tiny_edges.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err and "B" in err


def test_checksum_mismatch_is_rejected_and_not_left_in_the_cache(registry, server, tmp_path):
    server.files["/tiny_checkins.txt.gz"] = gzip.compress(b"1\t2010-01-01T00:00:00Z\t0.0\t0.0\t1\n" * 3, mtime=0)
    with pytest.raises(ChecksumError, match="does not match its published checksum"):
        fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)
    assert _cache_files(tmp_path) == []


def test_corrupt_cached_copy_is_deleted_and_downloaded_again(registry, server, tmp_path):
    (tmp_path / "tiny_checkins.txt.gz").write_bytes(b"not the file")
    path = fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)
    assert path.read_bytes() == CHECKINS_GZ
    assert server.requests == ["/tiny_checkins.txt.gz"]


def test_corrupt_cached_copy_is_not_used_when_offline(registry, tmp_path):
    (tmp_path / "tiny_checkins.txt.gz").write_bytes(b"not the file")
    with pytest.raises(DownloadError, match="was deleted"):
        fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=_closed_port_url(), progress=False)
    assert _cache_files(tmp_path) == []


def test_interrupted_transfer_leaves_no_file_and_a_retry_succeeds(registry, server, tmp_path):
    server.truncate.add("/tiny_checkins.txt.gz")
    with pytest.raises(DownloadError, match="restarts the download"):
        fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)
    assert _cache_files(tmp_path) == []  # no partial file, under the final name or any other

    server.truncate.clear()
    path = fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)
    assert path.read_bytes() == CHECKINS_GZ
    assert len(server.requests) == 2


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


def test_unreachable_server_gives_a_clear_error_naming_data_and_synthetic(registry, tmp_path):
    with pytest.raises(DownloadError) as raised:
        fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=(url := _closed_port_url()), progress=False)
    message = str(raised.value)
    assert "-p DATA path/to/loc-gowalla_totalCheckins.txt.gz" in message
    assert "-p DATA synthetic" in message
    # caused by the refused connection itself (not, say, a 404 or a checksum)
    assert isinstance(raised.value.__cause__, requests.exceptions.ConnectionError)
    assert f"from {url}/" in message
    assert _cache_files(tmp_path) == []


def test_missing_file_on_server_is_a_download_error(registry, server, tmp_path):
    del server.files["/tiny_edges.txt.gz"]
    with pytest.raises(DownloadError, match="404"):
        fetch_snap("tiny_edges.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)


def test_wrong_line_count_is_rejected_and_deleted(registry, server, tmp_path, monkeypatch):
    entry = registry["tiny_checkins.txt.gz"]
    monkeypatch.setitem(registry, "tiny_checkins.txt.gz", entry._replace(n_lines=4))
    with pytest.raises(ChecksumError, match="has 3 lines, expected 4"):
        fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)
    assert _cache_files(tmp_path) == []


def test_without_a_published_hash_the_first_download_is_recorded_and_checked_later(
    registry, server, tmp_path, monkeypatch
):
    entry = registry["tiny_checkins.txt.gz"]
    monkeypatch.setitem(registry, "tiny_checkins.txt.gz", entry._replace(known_hash=None))
    path = fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)
    record = tmp_path / "tiny_checkins.txt.gz.sha256"
    assert record.read_text().split() == [hashlib.sha256(CHECKINS_GZ).hexdigest(), "tiny_checkins.txt.gz"]

    # same line count, different bytes: caught by the recorded hash, downloaded again
    path.write_bytes(gzip.compress(CHECKINS.replace(b"22847", b"22848"), mtime=0))
    again = fetch_snap("tiny_checkins.txt.gz", cache_dir=tmp_path, base_url=server.base_url, progress=False)
    assert again.read_bytes() == CHECKINS_GZ
    assert len(server.requests) == 2


def test_environment_sets_the_cache_and_the_mirror(registry, server, tmp_path, monkeypatch):
    monkeypatch.setenv(fetch.CACHE_ENV, str(tmp_path / "env-cache"))
    monkeypatch.setenv(fetch.URL_ENV, server.base_url + "/")
    path = fetch_snap("tiny_edges.txt.gz", progress=False)
    assert path == tmp_path / "env-cache" / "tiny_edges.txt.gz"
    assert server.requests == ["/tiny_edges.txt.gz"]


def test_unknown_name_lists_the_registry(registry):
    with pytest.raises(ValueError, match="tiny_checkins.txt.gz.*tiny_edges.txt.gz"):
        fetch_snap("loc-brightkite_edges.txt.gz")


def test_count_lines_plain_and_gzip_with_or_without_final_newline(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x\ny\n")
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(b"x\ny\nz"))
    (tmp_path / "empty.txt").write_bytes(b"")
    assert count_lines(tmp_path / "a.txt") == 2
    assert count_lines(tmp_path / "b.txt.gz") == 3
    assert count_lines(tmp_path / "empty.txt") == 0


def test_count_lines_rejects_a_truncated_gzip(tmp_path):
    (tmp_path / "cut.txt.gz").write_bytes(CHECKINS_GZ[:-12])
    from checkin_traj.data.snap import InputError

    with pytest.raises(InputError, match=r"cut\.txt\.gz: the gzip stream is truncated"):
        count_lines(tmp_path / "cut.txt.gz")


def test_real_registry_names_urls_hashes_and_line_counts():
    checkins = SNAP_REGISTRY["loc-gowalla_totalCheckins.txt.gz"]
    edges = SNAP_REGISTRY["loc-gowalla_edges.txt.gz"]
    assert checkins.url == "https://snap.stanford.edu/data/loc-gowalla_totalCheckins.txt.gz"
    assert edges.url == "https://snap.stanford.edu/data/loc-gowalla_edges.txt.gz"
    assert checkins.n_lines == 6_442_890
    assert edges.n_lines == 2 * 950_327
    algorithm, digest = checkins.known_hash.split(":")
    assert algorithm == "sha256" and len(digest) == 64
    algorithm, digest = edges.known_hash.split(":")
    assert algorithm == "md5" and len(digest) == 32


def test_head_sample_has_the_snap_layout(head_checkins_path, head_edges_path):
    assert count_lines(head_checkins_path) == 10_000
    assert count_lines(head_edges_path) == 10_000
