"""The job store keeps working on a data directory made by an older version (fast)."""

from __future__ import annotations

import sqlite3

from openstrate_nb.local._store import Store


def test_a_store_without_failure_codes_gains_them(tmp_path):
    path = tmp_path / "jobs.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE jobs (job_id TEXT PRIMARY KEY, status TEXT NOT NULL, source_id TEXT, source_ext TEXT,"
                " source_url TEXT, filename TEXT, stage TEXT, current_frame INTEGER, total_frames INTEGER, error TEXT,"
                " result TEXT, attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL,"
                " updated_at REAL NOT NULL, started_at REAL, finished_at REAL)")
    old.execute("INSERT INTO jobs (job_id, status, error, created_at, updated_at) VALUES ('j1', 'failed', 'x', 1, 1)")
    old.commit()
    old.close()
    store = Store(path)
    try:
        assert store.job("j1")["code"] is None  # old failures keep their sentence, no code
        job = store.create_job(filename="walk.mp4", source_url="https://example.org/walk.mp4")
        store.finish_job(job["job_id"], status="failed", error="The camera hardly moves.", code="no_motion")
        assert store.job(job["job_id"])["code"] == "no_motion"
    finally:
        store.close()
