"""The result cache: keys, location, atomic writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from openstrate_nb import cache


def test_location_is_the_environment_variable_else_the_user_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENSTRATE_NB_CACHE", str(tmp_path / "c"))
    assert cache.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("OPENSTRATE_NB_CACHE")
    import platformdirs

    assert cache.cache_dir() == Path(platformdirs.user_cache_dir("openstrate_nb", appauthor=False))


def test_file_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(b"abc" * 1_000_000)
    assert cache.file_sha256(path) == hashlib.sha256(b"abc" * 1_000_000).hexdigest()


def test_a_job_record_round_trips_per_video_and_server(tmp_path):
    cache.record_job("k1", "http://a:1/", "job-1", root=tmp_path, upload_url="http://a:1/api/files/x.mp4")
    record = cache.lookup_job("k1", "http://a:1", root=tmp_path)
    assert record["job_id"] == "job-1" and record["upload_url"] == "http://a:1/api/files/x.mp4"
    assert cache.lookup_job("k1", "http://b:1", root=tmp_path) is None
    assert cache.lookup_job("k2", "http://a:1", root=tmp_path) is None
    cache.forget_job("k1", "http://a:1", root=tmp_path)
    assert cache.lookup_job("k1", "http://a:1", root=tmp_path) is None


def test_a_corrupt_record_is_a_miss(tmp_path):
    path = cache.record_job("k1", "http://a:1", "job-1", root=tmp_path)
    path.write_text("{not json")
    assert cache.lookup_job("k1", "http://a:1", root=tmp_path) is None


def test_url_keys_differ_from_content_keys_and_from_each_other():
    assert cache.url_key("http://x/a.mp4") != cache.url_key("http://x/b.mp4")
    assert cache.url_key("http://x/a.mp4") != hashlib.sha256(b"http://x/a.mp4").hexdigest()


def test_mesh_paths_stay_inside_the_cache(tmp_path):
    path = cache.mesh_path("http://a:1", "../../etc/passwd", root=tmp_path)
    assert path.parent.parent == tmp_path / "meshes" and path.name == "passwd.glb"
    assert cache.mesh_path("http://a:1", "abc.glb", root=tmp_path).name == "abc.glb"


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "d" / "f.json"
    cache.write_atomic(target, b"one")
    cache.write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]
