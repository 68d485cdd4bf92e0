"""Atomic file writes: all or nothing, umask modes, leftovers of killed writers removed."""

import os
import subprocess
import sys

import pytest

from netgraph.atomic import atomic_write, atomic_write_bytes


def test_a_failed_write_leaves_nothing(tmp_path):
    def broken(temporary):
        temporary.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(tmp_path / "f.json", broken)
    assert list(tmp_path.iterdir()) == []


def test_written_files_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "f.bin", b"1")
    finally:
        os.umask(previous)
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o640


def test_temporaries_of_killed_writers_are_removed(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    leftover = tmp_path / f".f.bin.{process.pid}.abc123.tmp"
    leftover.write_bytes(b"x" * 10)
    live = tmp_path / f".f.bin.{os.getppid()}.abc123.tmp"  # a writer still running: left alone
    live.write_bytes(b"x")
    atomic_write_bytes(tmp_path / "f.bin", b"new")
    assert not leftover.exists() and live.exists() and (tmp_path / "f.bin").read_bytes() == b"new"
