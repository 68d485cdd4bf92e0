"""Output folders: staged beside the target, swapped in whole, stale leftovers cleaned."""

import os
import subprocess
import sys

import pytest

from netgraph.errors import CheckpointError
from netgraph.report.directory import MARKER, check_output_folder, clean_stale_staging, staged_directory


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_rerun_leaves_no_file_of_the_earlier_run(tmp_path):
    target = tmp_path / "out"
    with staged_directory(target) as staging:
        (staging / "report.html").write_text("old model")
        (staging / "report.json").write_text("{}")
    with staged_directory(target) as staging:
        (staging / "report.json").write_text('{"new": 1}')
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "report.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failed_run_leaves_the_old_result_untouched(tmp_path):
    target = tmp_path / "out"
    with staged_directory(target) as staging:
        (staging / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with staged_directory(target) as staging:
            (staging / "a.txt").write_text("half")
            raise RuntimeError("failed mid-way")
    assert (target / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_folder_netgraph_did_not_write_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(CheckpointError, match="did not write"):
        with staged_directory(tmp_path / "mine"):
            pass
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
    (tmp_path / "empty").mkdir()
    with staged_directory(tmp_path / "empty") as staging:
        (staging / "x").write_text("1")
    assert (tmp_path / "empty" / "x").is_file()


@pytest.mark.parametrize("kind", ["file", "under_file", "empty", "current", "parent"])
def test_unwritable_targets_are_refused_before_work(tmp_path, monkeypatch, kind):
    (tmp_path / "f").write_text("a file")
    (tmp_path / "empty-here").mkdir()
    monkeypatch.chdir(tmp_path / "empty-here")  # even an empty current folder is never replaced
    target = {"file": tmp_path / "f", "under_file": tmp_path / "f" / "sub", "empty": "", "current": ".",
              "parent": tmp_path}[kind]
    with pytest.raises(CheckpointError):
        check_output_folder(target)


def test_a_read_only_parent_is_refused(tmp_path, monkeypatch):
    parent = tmp_path / "ro"
    parent.mkdir()
    real_access = os.access
    # Tests may run as root, which os.access lets write anywhere; simulate the read-only folder.
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(parent) else real_access(path, mode))
    with pytest.raises(CheckpointError, match="not writable"):
        check_output_folder(parent / "out" / "deeper")


def test_stale_staging_of_dead_runs_is_cleaned_and_listed(tmp_path):
    target = tmp_path / "out"
    dead = _dead_pid()
    stale = tmp_path / f".out.staging-{dead}-abcd1234"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"x" * 100)
    alive = tmp_path / f".out.staging-{os.getppid()}-abcd1234"  # a live process: left alone
    alive.mkdir()
    other = tmp_path / f".other.staging-{dead}-abcd1234"  # another target: left alone
    other.mkdir()
    removed = []
    with staged_directory(target, removed=removed) as staging:
        (staging / "a").write_text("1")
    assert removed == [stale]
    assert not stale.exists() and alive.exists() and other.exists()


def test_an_interrupted_fallback_swap_is_repaired(tmp_path):
    target = tmp_path / "out"
    old = tmp_path / f".out.old-{_dead_pid()}-00ff00ff"  # died after moving the old result aside
    old.mkdir()
    (old / "a.txt").write_text("previous complete result")
    assert clean_stale_staging(target) == []
    assert (target / "a.txt").read_text() == "previous complete result" and not old.exists()


def test_outputs_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        with staged_directory(tmp_path / "out") as staging:
            (staging / "sub").mkdir()
            (staging / "sub" / "f.bin").write_bytes(b"1")
            os.chmod(staging / "sub" / "f.bin", 0o600)
    finally:
        os.umask(previous)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "out" / "sub").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "out" / "sub" / "f.bin").stat().st_mode & 0o777 == 0o640
