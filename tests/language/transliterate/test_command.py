# ruff: noqa: RUF001 - Tifinagh and IRCAM Latin letters are the data under test
"""The ``transliterate`` and ``train arabizi`` commands on a local Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from jisr.language.transliterate.arabizi import load_model
from jisr.language.transliterate.command import register


@pytest.fixture
def app() -> typer.Typer:
    """A root app with a ``train`` group, as ``jisr lang`` assembles them."""
    root = typer.Typer()
    train = typer.Typer()
    register(root, train)
    root.add_typer(train, name="train")
    return root


def test_arguments_are_transliterated_one_line_each(app: typer.Typer) -> None:
    """Each argument gives one line of output."""
    result = CliRunner().invoke(
        app, ["transliterate", "--source", "zgh_Tfng", "--target", "ber_Latn", "ⴰⵣⵓⵍ", "ⵜⴰⵎⴰⵣⵉⵖⵜ"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["azul", "tamaziɣt"]


def test_json_lines_from_stdin(app: typer.Typer) -> None:
    """Without arguments, stdin lines are read; --json prints {"text", "result"} per line."""
    args = ["transliterate", "--source", "ber_Latn", "--target", "zgh_Tfng", "--ascii", "--json"]
    result = CliRunner().invoke(app, args, input="amazigh\n3afak\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"text": "amazigh", "result": "ⴰⵎⴰⵣⵉⵖ"},
        {"text": "3afak", "result": "ⵄⴰⴼⴰⴽ"},
    ]


def test_rejected_line_is_reported_and_the_rest_processed(app: typer.Typer) -> None:
    """An empty line gives an error object with its line number; exit status 1."""
    args = ["transliterate", "--source", "zgh_Tfng", "--target", "arb_Arab", "--json"]
    result = CliRunner().invoke(app, args, input="ⴰⵣⵓⵍ\n\nⵎⴰ\n")
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0] == {"text": "ⴰⵣⵓⵍ", "result": "أزول"}
    assert lines[1] == {"line": 2, "error": {"code": "empty", "detail": "the text is empty"}}
    assert lines[2]["result"] == "ما"


def test_unsupported_pair_is_a_usage_error(app: typer.Typer) -> None:
    """An unknown pair exits with status 2 and names the supported pairs."""
    args = ["transliterate", "--source", "ary_Arab", "--target", "ary_Latn", "x"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "ary_Latn→ary_Arab" in result.output


def test_train_arabizi_writes_a_loadable_model(app: typer.Typer, tmp_path: Path) -> None:
    """``train arabizi --data --out`` rebuilds a model from a data folder."""
    data = tmp_path / "data"
    (data / "ary_Arab").mkdir(parents=True)
    (data / "ary_Latn").mkdir()
    (data / "SOURCES.md").write_text("test data\n", encoding="utf-8")
    arabic = ["بغيت نمشي للدار", "سلام عليكم", "واش نتا مزيان", "عافاك عطيني الما"] * 5
    numbered = [f"{line} {index}" for index, line in enumerate(arabic)]
    (data / "ary_Arab" / "tiny.txt").write_text("\n".join(numbered), encoding="utf-8")
    latin = [f"bghit nmchi l dar {index}" for index in range(20)]
    (data / "ary_Latn" / "tiny.txt").write_text("\n".join(latin), encoding="utf-8")
    out = tmp_path / "model"
    result = CliRunner().invoke(app, ["train", "arabizi", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout
    assert load_model(out).transliterate("salam")


def test_source_and_target_are_required(app: typer.Typer) -> None:
    """Without --source or --target the command is a usage error."""
    result = CliRunner().invoke(app, ["transliterate", "--source", "zgh_Tfng", "ⴰⵣⵓⵍ"])
    assert result.exit_code == 2
