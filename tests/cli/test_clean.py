"""``openstrate-nb clean`` on folders of the test's own (OPENSTRATE_NB_CACHE, OPENSTRATE_NB_DATA), never the user's."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from test_cli import run_cli

from openstrate_nb._contract import size_text

QUICK = "_pipelines:quick_pipeline"


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """A widget cache and a server data folder with something in each, and files outside both."""
    cache, data = tmp_path / "cache", tmp_path / "data"
    server = data / "server"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not openstrate_nb's")
    _write(cache / "jobs" / "abc" / "video.json", 1_000)
    _write(cache / "meshes" / "abc" / "mesh.glb", 3 * 2**20)
    _write(server / "files" / "x.mp4", 2 * 2**20)
    _write(server / "logs" / "job.log", 500)
    (cache / "meshes" / "elsewhere").symlink_to(outside, target_is_directory=True)  # a link out of the folder
    (server / "files" / "keep.txt").symlink_to(outside / "keep.txt")
    (data / "mine.txt").write_text("beside server/: not the server's")
    env = {"OPENSTRATE_NB_CACHE": str(cache), "OPENSTRATE_NB_DATA": str(data)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cache, server, outside, env


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _size_of(folder: Path) -> str:
    return size_text(sum(p.lstat().st_size for p in folder.rglob("*") if p.is_symlink() or p.is_file()))


def test_without_yes_it_lists_sizes_removes_nothing_and_names_the_flag(folders):
    cache, server, _, env = folders
    before = _tree(cache), _tree(server)
    out = run_cli("clean", env=env)
    assert out.returncode == 1
    assert f"{cache}  ({_size_of(cache)} in 3 files)" in out.stdout
    assert f"{server}  ({_size_of(server)} in 3 files)" in out.stdout
    assert out.stderr.strip() == ("openstrate-nb: error: nothing removed: pass --yes to remove it "
                                  "(or --dry-run to only look).")
    assert (_tree(cache), _tree(server)) == before


def test_dry_run_shows_the_same_and_succeeds(folders):
    cache, server, _, env = folders
    before = _tree(cache), _tree(server)
    out = run_cli("clean", "--dry-run", env=env)
    assert out.returncode == 0 and out.stderr == ""
    assert "3.0 MiB in 3 files" in out.stdout and "2.0 MiB in 3 files" in out.stdout
    assert out.stdout.splitlines()[-1] == "Dry run: nothing removed; openstrate-nb clean --yes removes it."
    assert (_tree(cache), _tree(server)) == before


def test_yes_empties_both_folders_and_nothing_else(folders):
    cache, server, outside, env = folders
    sizes = _size_of(cache), _size_of(server)
    out = run_cli("clean", "--yes", env=env)
    assert out.returncode == 0, out.stderr
    assert f"removed {sizes[0]} from {cache}" in out.stdout and f"removed {sizes[1]} from {server}" in out.stdout
    assert cache.is_dir() and server.is_dir() and _tree(cache) == [] and _tree(server) == []
    assert (outside / "keep.txt").read_text() == "not openstrate_nb's"  # the links went, not what they named
    assert (server.parent / "mine.txt").exists()
    again = run_cli("clean", "--yes", env=env)
    assert again.returncode == 0 and "(empty)" in again.stdout and "Nothing to remove." in again.stdout


@pytest.mark.parametrize("option, emptied, kept", [("--cache-only", 0, 1), ("--data-only", 1, 0)])
def test_one_folder_only(folders, option, emptied, kept):
    chosen = folders[:2]
    before = _tree(chosen[kept])
    out = run_cli("clean", option, "-y", env=folders[3])
    assert out.returncode == 0, out.stderr
    assert str(chosen[kept]) not in out.stdout
    assert _tree(chosen[emptied]) == [] and _tree(chosen[kept]) == before


def test_missing_folders_are_nothing_to_remove(tmp_path):
    env = {"OPENSTRATE_NB_CACHE": str(tmp_path / "no-cache"), "OPENSTRATE_NB_DATA": str(tmp_path / "no-data")}
    out = run_cli("clean", env=env)
    assert out.returncode == 0 and out.stdout.count("(not there)") == 2 and "Nothing to remove." in out.stdout
    assert not (tmp_path / "no-cache").exists() and not (tmp_path / "no-data").exists()


def test_refuses_while_an_embedded_server_has_the_data_folder_open(folders):
    from openstrate_nb.local import start

    cache, server_data, _, env = folders
    before = _tree(server_data)
    with start(port=0, data_dir=server_data, pipeline=QUICK, workers=0):
        for args in (["--yes"], ["--data-only", "--yes"], ["--dry-run"]):
            out = run_cli("clean", *args, env=env)
            assert out.returncode == 1
            assert out.stderr.strip() == (f"openstrate-nb: error: an embedded server is running on {server_data} "
                                          "(openstrate-nb serve, or %openstrate serve in a notebook); stop it "
                                          "first, or pass --cache-only.")
        assert set(before) < set(_tree(server_data))  # nothing went; the server added its own
        out = run_cli("clean", "--cache-only", "--yes", env=env)
        assert out.returncode == 0 and _tree(cache) == []
    out = run_cli("clean", "--yes", env=env)
    assert out.returncode == 0, out.stderr
    assert _tree(server_data) == []


def test_a_killed_server_holds_nothing(folders):
    from _servers import ServerProcess

    _, server_data, _, env = folders
    process = ServerProcess(server_data, "--workers", "0").start()
    try:
        assert run_cli("clean", "--dry-run", env=env).returncode == 1
        process.kill()  # SIGKILL: no clean shutdown, the database's -wal and -shm stay behind
        assert (server_data / "openstrate.sqlite3-wal").exists()
        out = run_cli("clean", "--yes", env=env)
        assert out.returncode == 0, out.stderr
        assert _tree(server_data) == []
    finally:
        process.stop()


def test_refuses_a_folder_that_holds_the_home_folder(tmp_path):
    home = tmp_path / "home" / "me"
    home.mkdir(parents=True)
    (home / "thesis.tex").write_text("years of work")
    out = run_cli("clean", "--cache-only", "--yes", env={"HOME": str(home), "OPENSTRATE_NB_CACHE": str(tmp_path)})
    assert out.returncode == 1 and "holds your home folder" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and (home / "thesis.tex").exists()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("answer, status", [("y\n", 0), ("n\n", 1), ("\n", 1), ("", 1)])
def test_at_a_terminal_it_asks_first(folders, monkeypatch, capsys, answer, status):
    from openstrate_nb.cli import main

    cache, server, _, _ = folders
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    assert main(["clean"]) == status
    shown = capsys.readouterr().out
    assert "Remove it? [y/N]" in shown and "3 files" in shown
    assert (_tree(cache) == [] and _tree(server) == []) == (status == 0)
    if status:
        assert shown.rstrip().endswith("Nothing removed.")

