"""Validation of a plan record (the parsed ``plan.json``) before anything touches a model.

Types, ranges and sizes of every field a plan is rebuilt from are checked here, for plan
format versions 1 and 2, so a damaged or hand-edited plan fails with one
:class:`~netgraph.errors.CheckpointError` naming the field and the fix instead of a
``KeyError``/``IndexError`` deep inside :func:`~netgraph.reduce.apply.apply_plan`. Keys this
version does not know are allowed (newer writers may add optional ones) except in plans
without a checksum, whose layout is fixed (see :mod:`netgraph.reduce.integrity`).
"""

from __future__ import annotations

import re
from numbers import Real
from typing import Any

from netgraph.errors import CheckpointError

__all__ = ["validate_plan_record", "SUPPORTED_VERSIONS"]

PLAN_FORMAT = "netgraph-plan"
SUPPORTED_VERSIONS = (1, 2)
_UNCHECKED_KEYS = {
    1: {"format", "version", "method", "fold", "parameters", "fingerprint", "timings", "groups"},
    2: {"format", "version", "config", "diagnostics", "fingerprint", "timings", "groups"},
}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, field: str, problem: str) -> CheckpointError:
        return CheckpointError(
            f"Plan {self.source!r} is invalid at {field!r}: {problem}; re-create the plan "
            "(netgraph reduce, or plan_reduction + save) instead of editing it."
        )

    def mapping(self, value: Any, field: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object, got {_kind(value)}")
        return value

    def sequence(self, value: Any, field: str) -> list:
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, got {_kind(value)}")
        return value

    def text(self, value: Any, field: str, *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not empty and not value):
            raise self.fail(field, f"expected a non-empty string, got {_kind(value)}")
        return value

    def integer(self, value: Any, field: str, low: int | None = None, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, f"expected an integer, got {_kind(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
            raise self.fail(field, f"{value} is outside {bounds}")
        return value

    def flag(self, value: Any, field: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(field, f"expected true or false, got {_kind(value)}")
        return value

    def indices(self, value: Any, field: str, low: int, high: int) -> list[int]:
        items = self.sequence(value, field)
        for position, item in enumerate(items):
            self.integer(item, f"{field}[{position}]", low, high)
        return items


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {value[:40]!r}"
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


def _check_member(check: _Checker, value: Any, field: str, size: int) -> None:
    member = check.mapping(value, field)
    for key in ("module", "kind", "role"):
        check.text(member.get(key), f"{field}.{key}")
    rows = check.sequence(member.get("columns"), f"{field}.columns")
    if len(rows) != size:
        raise check.fail(f"{field}.columns", f"{len(rows)} rows for a group of {size} units")
    width = None
    for unit, row in enumerate(rows):
        row = row if isinstance(row, list) else [row]
        check.indices(row, f"{field}.columns[{unit}]", 0, None)
        if width is not None and len(row) != width:
            raise check.fail(f"{field}.columns[{unit}]", f"{len(row)} columns where unit 0 has {width}")
        width = len(row)


def _check_group(check: _Checker, value: Any, field: str, version: int) -> str:
    entry = check.mapping(value, field)
    group = check.mapping(entry.get("group"), f"{field}.group")
    name = check.text(group.get("name"), f"{field}.group.name")
    size = check.integer(group.get("size"), f"{field}.group.size", 1, None)
    for role in ("producers", "norms", "consumers"):
        members = check.sequence(group.get(role), f"{field}.group.{role}")
        for position, member in enumerate(members):
            _check_member(check, member, f"{field}.group.{role}[{position}]", size)
    for key in ("foldable", "homogeneous"):
        if key in group:
            check.flag(group[key], f"{field}.group.{key}")
    for key in ("activation", "reason"):
        if key in group:
            check.text(group[key], f"{field}.group.{key}", empty=True)
    kept = check.indices(entry.get("kept"), f"{field}.kept", 0, size - 1)
    if not kept:
        raise check.fail(f"{field}.kept", "no unit is kept; every group keeps at least one")
    if any(b <= a for a, b in zip(kept, kept[1:])):
        raise check.fail(f"{field}.kept", "indices must be strictly increasing")
    assignment = check.indices(entry.get("assignment"), f"{field}.assignment", -1, size - 1)
    if len(assignment) != size:
        raise check.fail(f"{field}.assignment", f"{len(assignment)} entries for a group of {size} units")
    compensation = check.mapping(entry.get("compensation", {}), f"{field}.compensation")
    for module, keys in compensation.items():
        keys = check.mapping(keys, f"{field}.compensation.{module}")
        check.text(keys.get("weight"), f"{field}.compensation.{module}.weight")
        if keys.get("bias") is not None:
            check.text(keys.get("bias"), f"{field}.compensation.{module}.bias")
    check.mapping(entry.get("metrics", {}), f"{field}.metrics")
    if "fold" in entry:
        check.text(entry["fold"], f"{field}.fold")
    return name


def validate_plan_record(data: Any, source: str, *, checked: bool = True) -> None:
    """Raise :class:`CheckpointError` unless ``data`` is a well-formed plan record.

    Parameters
    ----------
    data : the parsed JSON of a plan file
    source : the file's path, named in messages
    checked : whether the file carried a verified checksum; plans without one must have
        exactly the layout of their version, so a damaged field name cannot slip through as an
        unknown optional key.
    """
    check = _Checker(source)
    record = check.mapping(data, "(top level)")
    if record.get("format") != PLAN_FORMAT:
        raise check.fail("format", f"expected {PLAN_FORMAT!r}; this file is not a netgraph plan")
    version = record.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise check.fail("version", f"expected an integer, got {_kind(version)}")
    if version > max(SUPPORTED_VERSIONS):
        raise CheckpointError(
            f"Plan {source!r} has format version {version}, newer than this netgraph reads "
            f"({max(SUPPORTED_VERSIONS)}); upgrade netgraph."
        )
    if version not in SUPPORTED_VERSIONS:
        raise check.fail("version", f"{version} is not a plan format version (known: {SUPPORTED_VERSIONS})")
    if not checked:
        unknown = sorted(set(record) - _UNCHECKED_KEYS[version])
        if unknown:
            raise check.fail(unknown[0], "unknown field in a plan without a checksum")
    if version == 1:
        check.text(record.get("method"), "method")
        check.text(record.get("fold"), "fold")
        check.mapping(record.get("parameters", {}), "parameters")
    else:
        config = check.mapping(record.get("config"), "config")
        check.text(config.get("method"), "config.method")
        check.text(config.get("fold"), "config.fold")
        check.mapping(record.get("diagnostics", {}), "diagnostics")
    fingerprint = check.mapping(record.get("fingerprint"), "fingerprint")
    for key, value in fingerprint.items():
        if not isinstance(value, str) or not _HEX64.match(value):
            raise check.fail(f"fingerprint.{key}", f"expected a SHA-256 hex digest, got {_kind(value)}")
    timings = check.mapping(record.get("timings", {}), "timings")
    for key, value in timings.items():
        if isinstance(value, bool) or not isinstance(value, Real):
            raise check.fail(f"timings.{key}", f"expected a number, got {_kind(value)}")
    files = check.mapping(record.get("files", {}), "files")
    for name, entry in files.items():
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise check.fail(f"files.{name}", "a companion file must be a plain file name")
        entry = check.mapping(entry, f"files.{name}")
        if not isinstance(entry.get("sha256"), str) or not _HEX64.match(entry["sha256"]):
            raise check.fail(f"files.{name}.sha256", f"expected a SHA-256 hex digest, got {_kind(entry.get('sha256'))}")
        check.integer(entry.get("bytes"), f"files.{name}.bytes", 0, None)
    names = set()
    for position, entry in enumerate(check.sequence(record.get("groups"), "groups")):
        name = _check_group(check, entry, f"groups[{position}]", version)
        if name in names:
            raise check.fail(f"groups[{position}].group.name", f"group {name!r} appears twice")
        names.add(name)
