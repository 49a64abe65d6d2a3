"""Jobs and file records in SQLite (WAL), shared by the API and the job runner threads.

One connection guarded by a lock: every statement here is a few microseconds, and one
writer at a time is what SQLite wants anyway. Rows come back as plain dicts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .._contract import ACTIVE_STATUSES

__all__ = ["Store", "ACTIVE_STATUSES"]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id TEXT NOT NULL,
    ext TEXT NOT NULL,
    kind TEXT NOT NULL,              -- video | mesh | points | cameras | image
    filename TEXT NOT NULL,          -- the client's name, for display only, never a path
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (id, ext)
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    source_id TEXT,                  -- files.id of the video, once it is on disk
    source_ext TEXT,
    source_url TEXT,                 -- a remote video_url still to be fetched
    filename TEXT,
    stage TEXT,
    current_frame INTEGER,
    total_frames INTEGER,
    error TEXT,
    code TEXT,                       -- machine-readable reason of a failure (job document extension)
    progress REAL,                   -- overall share done, 0..1, never decreasing (extension)
    eta_s REAL,                      -- seconds left as last forecast, at updated_at (extension)
    result TEXT,                     -- JSON: asset ids and stats of a finished job
    options TEXT,                    -- JSON: the client's options for this job (extension)
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Store:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        # Data directories made by earlier versions lack the later columns.
        for column, kind in (("code", "TEXT"), ("progress", "REAL"), ("eta_s", "REAL"), ("options", "TEXT")):
            if column not in columns:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")

    def server_id(self) -> str:
        """This data directory's identity, made once and kept: clients key their caches by it
        rather than by the port, which changes every time ``%openstrate serve`` starts."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('server_id', ?)", (uuid.uuid4().hex,))
            return self._db.execute("SELECT value FROM meta WHERE key = 'server_id'").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, sql: str, args: tuple = ()) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return dict(row) if row else None

    def _all(self, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    def _run(self, sql: str, args: tuple = ()) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # -- files ---------------------------------------------------------------------------

    def add_file(self, file_id: str, ext: str, kind: str, filename: str, size: int, sha256: str) -> dict[str, Any]:
        self._run(
            "INSERT INTO files (id, ext, kind, filename, size, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (file_id, ext, kind, filename, size, sha256, time.time()),
        )
        return self.file(file_id, ext)  # type: ignore[return-value]

    def file(self, file_id: str, ext: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM files WHERE id = ? AND ext = ?", (file_id, ext))

    # -- jobs ----------------------------------------------------------------------------

    def create_job(self, *, filename: str | None, source_id: str | None = None, source_ext: str | None = None,
                   source_url: str | None = None, options: dict[str, Any] | None = None) -> dict[str, Any]:
        job_id = str(uuid.uuid4())
        now = time.time()
        self._run(
            "INSERT INTO jobs (job_id, status, source_id, source_ext, source_url, filename, options, stage, created_at,"
            " updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, 'queued', ?, ?)",
            (job_id, source_id, source_ext, source_url, filename, json.dumps(options) if options else None, now, now),
        )
        return self.job(job_id)  # type: ignore[return-value]

    def job(self, job_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
        if row:
            row["result"] = json.loads(row["result"]) if row["result"] else None
            row["options"] = json.loads(row["options"]) if row.get("options") else {}
        return row

    def jobs_with_status(self, *statuses: str) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(statuses))
        return self._all(f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY created_at", statuses)

    def update_job(self, job_id: str, **fields: Any) -> None:
        if "result" in fields and fields["result"] is not None:
            fields["result"] = json.dumps(fields["result"])
        fields["updated_at"] = time.time()
        names = ", ".join(f"{name} = ?" for name in fields)
        self._run(f"UPDATE jobs SET {names} WHERE job_id = ?", (*fields.values(), job_id))

    def record_progress(self, job_id: str, stage: str, current: int, total: int, overall: float | None = None,
                        eta_s: float | None = None, video_frames: int | None = None) -> None:
        """A worker's report. With a forecast, ``progress`` only grows (a retried job does not
        start its bar again) and the frame counts are that progress in video frames."""
        fields: dict[str, Any] = {"stage": stage[:64], "current_frame": max(0, current), "total_frames": max(0, total)}
        if overall is not None:
            row = self._one("SELECT progress FROM jobs WHERE job_id = ?", (job_id,)) or {}
            done = max(float(row.get("progress") or 0.0), min(1.0, max(0.0, float(overall))))
            fields.update(progress=done, eta_s=None if eta_s is None else max(0.0, float(eta_s)))
            if video_frames:
                fields.update(current_frame=int(done * video_frames), total_frames=int(video_frames))
        self.update_job(job_id, **fields)

    def claim_job(self, job_id: str) -> bool:
        """Move a pending job to processing; False if someone else had it already."""
        now = time.time()
        return self._run(
            "UPDATE jobs SET status = 'processing', attempts = attempts + 1, started_at = ?, updated_at = ?,"
            " stage = 'starting' WHERE job_id = ? AND status = 'pending'",
            (now, now, job_id),
        ) == 1

    def count_attempt(self, job_id: str) -> int:
        """One more attempt at a job already processing (a cluster began it again); the new count."""
        self._run("UPDATE jobs SET attempts = attempts + 1, updated_at = ? WHERE job_id = ? AND status = 'processing'",
                  (time.time(), job_id))
        row = self._one("SELECT attempts FROM jobs WHERE job_id = ?", (job_id,))
        return int(row["attempts"]) if row else 0

    def cancel_job(self, job_id: str) -> bool:
        """End a pending or processing job as ``failed`` with code ``cancelled``; False if it had ended."""
        now = time.time()
        return self._run(
            "UPDATE jobs SET status = 'failed', code = 'cancelled', stage = 'cancelled', finished_at = ?,"
            " updated_at = ?, error = 'the reconstruction was cancelled; upload the video again to run it again.'"
            " WHERE job_id = ? AND status IN ('pending', 'processing')",
            (now, now, job_id),
        ) == 1

    def finish_job(self, job_id: str, *, status: str, error: str | None = None, code: str | None = None,
                   result: dict | None = None) -> None:
        self.update_job(job_id, status=status, error=error, code=code, result=result, finished_at=time.time(),
                        stage="done" if status == "complete" else "failed")
