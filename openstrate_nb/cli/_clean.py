"""What ``openstrate-nb clean`` removes: the widget's cache and the embedded server's data.

Two folders and nothing else: :func:`openstrate_nb.cache.cache_dir` (jobs the widget
remembers, meshes it downloaded) and :func:`openstrate_nb.local.default_data_dir` (the
embedded server's jobs, uploaded videos, meshes and logs). Their contents go, the folders
stay. A symlink inside them is removed as a link; what it points at is never touched.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from .._contract import size_text

__all__ = ["Folder", "folders", "refusal", "server_running", "empty"]


@dataclass
class Folder:
    label: str
    path: Path
    #: bytes and files (symlinks counted as themselves) inside, when measured
    size: int = 0
    files: int = 0

    @property
    def exists(self) -> bool:
        return self.path.is_dir()

    def describe(self) -> str:
        if not self.exists:
            return "not there"
        return f"{size_text(self.size)} in {self.files} file{'' if self.files == 1 else 's'}" if self.files else "empty"


def folders(*, cache: bool = True, data: bool = True) -> list[Folder]:
    """The folders to clean, measured; their paths resolved as the client and server use them."""
    from ..cache import cache_dir
    from ..local import default_data_dir

    chosen = ([Folder("widget cache", cache_dir())] if cache else []) + \
             ([Folder("embedded server data", default_data_dir())] if data else [])
    for folder in chosen:
        folder.path = folder.path.expanduser().resolve()
        folder.size, folder.files = _measure(folder.path)
    return chosen


def _measure(path: Path) -> tuple[int, int]:
    size = count = 0
    for root, dirs, files in os.walk(path):  # never into a symlinked folder
        for name in files + dirs:
            try:
                info = os.lstat(os.path.join(root, name))
            except OSError:  # gone meanwhile
                continue
            if not stat.S_ISDIR(info.st_mode):
                size, count = size + info.st_size, count + 1
    return size, count


def refusal(chosen: list[Folder]) -> str | None:
    """Why these folders must not be emptied now (one sentence), or None."""
    from ..local import default_data_dir

    home = Path.home().resolve()
    for folder in chosen:
        if folder.path == home or folder.path in home.parents:  # a misdirected setting
            return (f"{folder.path} holds your home folder, so it is not only openstrate_nb's; "
                    "point OPENSTRATE_NB_CACHE or OPENSTRATE_NB_DATA at a folder of its own.")
    server_data = default_data_dir().expanduser().resolve()
    if any(server_data == f.path or f.path in server_data.parents for f in chosen) and server_running(server_data):
        return (f"an embedded server is running on {server_data} (openstrate-nb serve, or %openstrate serve "
                "in a notebook); stop it first, or pass --cache-only.")
    return None


def server_running(data_dir: Path) -> bool:
    """Whether an embedded server has this data folder open.

    Its store keeps a SQLite connection in WAL mode open for as long as it runs, and such a
    connection holds a shared lock on the database file, so nobody else can take an
    exclusive one (SQLite's own locks: the same answer on every platform, and a server that
    was killed holds nothing). Nothing is written: the exclusive transaction is rolled back.
    """
    database = data_dir / "openstrate.sqlite3"
    if not database.is_file():
        return False
    try:
        db = sqlite3.connect(f"{database.as_uri()}?mode=rw", uri=True, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")
        db.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)  # SQLITE_BUSY; anything else (not a database) is no server's
    finally:
        db.close()
    return False


def empty(path: Path) -> None:
    """Remove everything inside ``path``, not ``path`` itself; symlinks are unlinked, not followed."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)  # removes links inside as links
        else:
            os.unlink(entry.path)
