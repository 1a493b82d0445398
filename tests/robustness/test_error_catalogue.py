"""docs/errors.md cannot drift: every row of its error catalogue is run, and must raise the exception
it names with a message containing the excerpt it shows."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

import tinygradnn as tg
import tinygradnn.nn as nn
import tinygradnn.nn.functional as F

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| (?P<mistake>[^|]+?) \| `(?P<code>[^`]+)` \| `(?P<exc>\w+)` \| `(?P<message>[^`]+)` \|$")


def catalogue_rows() -> list[dict]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Error catalogue", 1)[1]
    rows = [m.groupdict() for m in map(ROW.match, table.splitlines()) if m]
    body = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Mistake")]
    assert len(rows) == len(body), "a catalogue row does not have the form | mistake | `code` | `Exc` | `msg` |"
    return rows


ROWS = catalogue_rows()


def test_the_catalogue_is_long_enough_to_be_useful():
    assert len(ROWS) >= 40


@pytest.mark.parametrize("row", ROWS, ids=[r["mistake"] for r in ROWS])
def test_each_catalogued_mistake_raises_what_the_doc_says(row):
    namespace = {"tg": tg, "nn": nn, "F": F, "np": np, "io": io, "x": tg.randn(2, 3), "model": nn.Linear(3, 4)}
    with pytest.raises(Exception) as info:
        exec(row["code"].replace("; ", "\n"), namespace)
    assert type(info.value).__name__ == row["exc"], f"raised {type(info.value).__name__}: {info.value}"
    assert row["message"] in str(info.value), f"the message is now: {info.value}"


def test_the_parser_rejects_a_drifted_row():
    """The check can fail: a row whose excerpt is not in the real message is caught."""
    row = dict(ROWS[0], message="this text is in no message")
    with pytest.raises(AssertionError, match="the message is now"):
        test_each_catalogued_mistake_raises_what_the_doc_says(row)
