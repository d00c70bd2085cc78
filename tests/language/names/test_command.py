"""The ``names`` CLI group on a local Typer app: match, search, index build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from jisr.language.names.command import register

NAMES = "محمد العلوي\nMohamed Alaoui\nيوسف الإدريسي\n\nKarima Bennani\n"


@pytest.fixture
def app() -> typer.Typer:
    """An app with only the names group, as ``jisr lang`` will hold it."""
    root, train = typer.Typer(), typer.Typer()
    register(root, train)
    return root


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def index_file(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> Path:
    path = tmp_path / "names.npz"
    result = runner.invoke(app, ["names", "index", "build", "--out", str(path)], input=NAMES)
    assert result.exit_code == 0, result.output
    return path


def test_match_json(app: typer.Typer, runner: CliRunner) -> None:
    """``names match A B --json`` prints a, b, score and match."""
    result = runner.invoke(app, ["names", "match", "يوسف", "Youssef", "--json"])
    assert result.exit_code == 0
    line = json.loads(result.stdout)
    assert line["a"] == "يوسف" and line["b"] == "Youssef"
    assert line["match"] is True and 0.9 < line["score"] <= 1.0


def test_match_human_line_and_no_match(app: typer.Typer, runner: CliRunner) -> None:
    """Without --json: score, verdict and the two names, tab-separated."""
    result = runner.invoke(app, ["names", "match", "Karim", "Karima"])
    assert result.exit_code == 0
    assert result.stdout.split("\t")[1] == "no match"


def test_match_empty_argument_exits_2(app: typer.Typer, runner: CliRunner) -> None:
    """An empty name is a usage error naming the rule."""
    result = runner.invoke(app, ["names", "match", " ", "Youssef"])
    assert result.exit_code == 2
    assert "empty" in result.output


def test_index_build_reports_and_skips_blank_lines(index_file: Path) -> None:
    """Blank lines are skipped; the index holds the four names."""
    from jisr.language.names import NameIndex

    assert len(NameIndex.load(index_file)) == 4


def test_index_build_from_file_rejects_bad_lines(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    """A line of invalid UTF-8 is reported and skipped; the index is written; exit 1."""
    source, out = tmp_path / "names.txt", tmp_path / "out.npz"
    source.write_bytes(b"Mohamed Alaoui\n" + b"\xff\xfe\n" + "يوسف\n".encode())
    result = runner.invoke(app, ["names", "index", "build", "--out", str(out), str(source)])
    assert result.exit_code == 1
    assert "line 2" in result.stderr
    assert out.exists() and "2 distinct names" in result.stdout


def test_search_arguments_json(app: typer.Typer, runner: CliRunner, index_file: Path) -> None:
    """``names search --index FILE --json NAME`` prints the query and results best first."""
    args = ["names", "search", "--index", str(index_file), "--limit", "2", "--json"]
    result = runner.invoke(app, [*args, "Youssef El Idrissi"])
    assert result.exit_code == 0
    line = json.loads(result.stdout)
    assert line["query"] == "Youssef El Idrissi"
    assert line["results"][0]["name"] == "يوسف الإدريسي"
    assert len(line["results"]) <= 2


def test_search_stdin_with_bad_lines(app: typer.Typer, runner: CliRunner, index_file: Path) -> None:
    """Names come from stdin one per line; empty and invalid UTF-8 lines are error lines."""
    stdin = b"Mohamed Alaoui\n" + b"\n" + b"\xc3\x28\n" + "العلوي محمد\n".encode()
    args = ["names", "search", "--index", str(index_file), "--json"]
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("error", {}).get("code") for line in lines] == [
        None,
        "empty",
        "invalid_utf8",
        None,
    ]
    assert lines[1]["line"] == 2 and lines[2]["line"] == 3
    assert lines[3]["results"][0]["name"] == "محمد العلوي"


def test_search_with_unreadable_index_exits_2(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    """An index file that cannot be read is a usage error naming --index."""
    result = runner.invoke(app, ["names", "search", "--index", str(tmp_path / "no.npz"), "x"])
    assert result.exit_code == 2
    assert "--index" in result.output


def test_train_gets_no_command(runner: CliRunner) -> None:
    """Nothing is trained: ``register`` adds no command to the train group."""
    root, train = typer.Typer(), typer.Typer()
    register(root, train)
    assert train.registered_commands == []
