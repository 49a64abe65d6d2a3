"""README.md runs as written: every fenced block is run the way a user pasting it would, or checked.

``BLOCKS`` says what happens to each block (named by its section and its place there) and why:

- ``text``: a diagram or an output, not code;
- ``notebook``: a cell of one real IPython kernel (nbclient), the README's notebook blocks in order;
- ``python``: a script in a Python process of its own;
- ``shell``: ``bash -e``, with this environment's ``openstrate-nb`` first on the PATH;
- ``named``: not run from inside the suite (it installs into the environment, runs the whole
  suite, serves until Ctrl-C, or holds placeholders such as JOB_ID), but every command in it
  must exist: make targets and variables in the Makefile, extras in pyproject.toml,
  ``openstrate-nb`` commands and options in its parser (tests/cli runs each of them).

A block missing from the table fails ``test_every_block_is_classified``, so the README cannot
grow a block nobody runs. Blocks run in folders of their own holding the bundled sample as
``walk.mp4``, with OPENSTRATE_NB_DATA and OPENSTRATE_NB_CACHE in temporary folders, never the
user's. The notebook reconstructs the sample for real (about a minute on two cores) and the
provenance block verifies that result, which reconstructs it once more; the client block talks
to the suite's session server (tests/conftest.py, the fast test pipeline).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

TEXT, NAMED, NOTEBOOK, PYTHON, SHELL = "text", "named", "notebook", "python", "shell"
#: the block languages each treatment accepts
LANGUAGES = {TEXT: {"text"}, NAMED: {"bash"}, NOTEBOOK: {"python"}, PYTHON: {"python"}, SHELL: {"bash"}}

#: (section, n-th block in it) -> (treatment, why, the test that runs it)
BLOCKS: dict[tuple[str, int], tuple[str, str, str | None]] = {
    ("openstrate_nb", 1): (TEXT, "the diagram", None),
    ("Quick start", 1): (NAMED, "make demo installs into .venv, make test runs this suite", None),
    ("Install", 1): (NAMED, "pip install would change the environment running the suite", None),
    ("In a notebook (30 seconds)", 1): (NOTEBOOK, "cell 1: %openstrate serve, a real reconstruction of walk.mp4",
                                        "test_notebook_blocks_run_in_one_kernel"),
    ("In a notebook (30 seconds)", 2): (NOTEBOOK, "cell 2, same kernel: wait, mesh, summary, export",
                                        "test_notebook_blocks_run_in_one_kernel"),
    ("Watching it being built, and every stage's pictures", 1): (
        NOTEBOOK, "cell 3, same kernel: the job's stage artifacts and two figures", "test_notebook_blocks_run_in_one_kernel"),
    ("The Python client", 1): (PYTHON, "against the suite's session server", "test_client_block"),
    ("Command line", 1): (NAMED, "placeholders (JOB_ID, ID), the hosted service, a server that runs until "
                                 "Ctrl-C; tests/cli runs every command", None),
    ("Reproducible results", 1): (PYTHON, "on the notebook's walk.glb; verify reconstructs it again",
                                  "test_provenance_block"),
    ("Where your data goes", 1): (SHELL, "on the folders the notebook filled", "test_clean_block"),
    ("Development", 1): (NAMED, "runs this suite", None),
}


@dataclass
class Block:
    section: str
    place: int
    language: str
    text: str
    line: int

    @property
    def key(self) -> tuple[str, int]:
        return self.section, self.place


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    section, counts, fence = "", {}, None
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if fence is not None:
            if line.strip() == "```":
                blocks.append(Block(section, counts[section], fence[0], "\n".join(fence[2]) + "\n", fence[1]))
                fence = None
            else:
                fence[2].append(line)
        elif line.startswith("```"):
            counts[section] = counts.get(section, 0) + 1
            fence = (line[3:].strip(), number, [])
        elif re.match(r"#{1,6} ", line):
            section = line.lstrip("#").strip()
    assert fence is None, f"README.md:{fence[1]}: a fenced block is never closed"
    return blocks


def blocks_for(test: str) -> list[Block]:
    chosen = [b for b in readme_blocks() if BLOCKS.get(b.key, (None, None, None))[2] == test]
    assert chosen, f"no README block is run by {test}"
    return chosen


def test_every_block_is_classified():
    blocks = readme_blocks()
    for block in blocks:
        assert block.key in BLOCKS, (
            f"README.md:{block.line}: the {block.language} block #{block.place} of '{block.section}' is not "
            f"classified; add {block.key!r} to BLOCKS in tests/test_readme.py: run it, or say why not and "
            "check what it names")
        treatment, why, test = BLOCKS[block.key]
        assert block.language in LANGUAGES[treatment], f"README.md:{block.line}: a {block.language} block is not {treatment}"
        assert why and (test is None) == (treatment in (TEXT, NAMED)), block.key
        assert test is None or callable(globals().get(test)), f"{test} (for {block.key}) is not a test here"
    stale = set(BLOCKS) - {b.key for b in blocks}
    assert not stale, f"BLOCKS names blocks README.md no longer has: {sorted(stale)}; remove them"


# -- blocks not run: what they name must exist ----------------------------------------------


def _commands(text: str):
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        while words:
            end = words.index("&&") if "&&" in words else len(words)
            yield words[:end]
            words = words[end + 1:]


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _check_command(words: list[str]) -> None:
    program, args = words[0], words[1:]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    if program == "make":
        targets = set(re.findall(r"^([\w.-]+):", makefile, re.M))
        for arg in args:
            name, is_variable, value = arg.partition("=")
            if is_variable:
                assert f"$({name})" in makefile, f"make {arg}: the Makefile does not use {name}"
                for word in shlex.split(value):
                    assert word.startswith("-") or (REPO / word).exists(), f"make {arg}: no {word} here"
            else:
                assert arg in targets, f"make {arg}: the Makefile has no target {arg}"
    elif program == "pip" and args[:1] == ["install"]:
        extras = _pyproject()["project"]["optional-dependencies"]
        for spec in args[1:]:
            path, _, wanted = spec.partition("[")
            assert (REPO / path / "pyproject.toml").is_file(), f"pip install {spec}: not the project's folder"
            for extra in filter(None, wanted.rstrip("]").split(",")):
                assert extra in extras, f"pip install {spec}: pyproject.toml has no extra {extra}"
    elif program == "openstrate-nb":
        from openstrate_nb.cli import build_parser

        try:
            build_parser().parse_args(args)
        except SystemExit:
            pytest.fail(f"{shlex.join(words)}: openstrate-nb does not take this (see its message above)")
    elif Path(program).name == "pytest":
        venv = re.search(r"^VENV\s*\?=\s*(\S+)", makefile, re.M).group(1)
        assert Path(program).parent == Path(venv) / "bin", f"{program}: not in the Makefile's {venv}"
        markers = {m.split(":")[0] for m in _pyproject()["tool"]["pytest"]["ini_options"]["markers"]}
        if "-m" in args:
            named = set(args[args.index("-m") + 1].split()) - {"not", "and", "or"}
            assert named <= markers, f"{shlex.join(words)}: undeclared markers {named - markers}"
    else:
        pytest.fail(f"no check for {program!r}: teach _check_command about it, or run the block")


@pytest.mark.parametrize("block", [b for b in readme_blocks() if BLOCKS.get(b.key, ("",))[0] == NAMED],
                         ids=lambda b: f"{b.section}-{b.place}")
def test_what_a_block_not_run_names_exists(block):
    commands = list(_commands(block.text))
    assert commands, block.key
    for words in commands:
        _check_command(words)


# -- blocks run -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> dict[str, str]:
    """A user's environment with its own data and cache folders, and this checkout's openstrate-nb."""
    home = tmp_path_factory.mktemp("readme-user")
    bin_dir = Path(sys.executable).parent
    assert shutil.which("openstrate-nb", path=str(bin_dir)), f"no openstrate-nb in {bin_dir}: make install-test"
    return {
        **{k: v for k, v in os.environ.items() if k not in ("OPENSTRATE_BASE_URL", "OPENSTRATE_TOKEN")},
        "OPENSTRATE_NB_DATA": str(home / "data"),
        "OPENSTRATE_NB_CACHE": str(home / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
    }


def _folder(tmp_path_factory, name: str) -> Path:
    """A folder of its own for a block, holding the bundled sample as walk.mp4."""
    from openstrate_nb.local import sample_video

    folder = tmp_path_factory.mktemp(name)
    shutil.copyfile(sample_video(), folder / "walk.mp4")
    return folder


def _run(command: list[str], folder: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{command[:2]} failed in {folder}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def _python(block: Block, folder: Path, env: dict[str, str]) -> str:
    script = folder / f"readme_line_{block.line}.py"
    script.write_text(block.text, encoding="utf-8")
    return _run([sys.executable, script.name], folder, env).stdout


#: Run after the README's cells: the test's own, so that the provenance block finds walk.glb
#: beside walk.mp4, as a user who saved the notebook's result would.
_KEEP_RESULT = """\
import shutil
assert w.job.status == "complete" and w.mesh_path.is_file()
shutil.copyfile(w.mesh_path, "walk.glb")
"""


@pytest.fixture(scope="module")
def notebook(user, tmp_path_factory):
    """The README's notebook blocks, as the cells of one notebook run by a real kernel."""
    import nbformat
    from nbclient import NotebookClient

    folder = _folder(tmp_path_factory, "readme-notebook")
    cells = [block.text for block in blocks_for("test_notebook_blocks_run_in_one_kernel")] + [_KEEP_RESULT]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute(env=user)
    return folder, notebook


@pytest.mark.slow  # the real reconstruction, through the notebook fixture
def test_notebook_blocks_run_in_one_kernel(notebook, user):
    folder, executed = notebook
    outputs = [output for cell in executed.cells for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"], outputs
    assert (folder / "walk.html").stat().st_size > 100_000 and (folder / "walk.glb").read_bytes()[:4] == b"glTF"
    assert any((Path(user["OPENSTRATE_NB_DATA"]) / "server" / "files").glob("*.mp4"))  # the server beside the kernel
    assert len(list((folder / "stages" / "keyframes").glob("*.jpg"))) >= 5  # the job's own pictures came down
    assert any("image/png" in o.get("data", {}) for o in outputs[-3:])  # and the keyframe strip was drawn


def test_client_block(server, user, tmp_path_factory):
    folder = _folder(tmp_path_factory, "readme-client")
    out = _python(*blocks_for("test_client_block"), folder, {**user, "OPENSTRATE_BASE_URL": server.base_url})
    assert out.splitlines()[-1].startswith(server.base_url + "/view/") and "1.0" in out.splitlines()
    assert (folder / "walk.glb").read_bytes()[:4] == b"glTF"


@pytest.mark.slow  # the real reconstruction, through the notebook fixture
def test_provenance_block(notebook, user):
    from openstrate_nb import __version__
    from openstrate_nb.cache import file_sha256

    folder, _ = notebook
    lines = _python(*blocks_for("test_provenance_block"), folder, user).splitlines()
    sha256, version, geometry = lines[0].split()
    assert sha256 == file_sha256(folder / "walk.mp4") and version == __version__ and len(geometry) == 64
    assert lines[-1] == "True None"


@pytest.mark.slow  # the real reconstruction, through the notebook fixture
def test_clean_block(notebook, user, tmp_path_factory):
    data, cache = Path(user["OPENSTRATE_NB_DATA"]) / "server", Path(user["OPENSTRATE_NB_CACHE"])
    assert any(data.iterdir()) and any(cache.iterdir())
    [block] = blocks_for("test_clean_block")
    out = _run(["bash", "-e", "-c", block.text], tmp_path_factory.mktemp("readme-clean"), user).stdout
    assert re.search(rf"{re.escape(str(cache.resolve()))}  \(\d[\d.]* MiB in \d+ files\)", out), out
    assert re.search(rf"{re.escape(str(data.resolve()))}  \(\d[\d.]* MiB in \d+ files\)", out), out
    assert "Dry run: nothing removed" in out and "removed " in out
    assert list(data.iterdir()) == [] and list(cache.iterdir()) == []
