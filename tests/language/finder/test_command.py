"""The ``find-service`` command on a local Typer app."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from jisr.language.finder import ServiceFinder, command
from jisr.language.finder.command import register


@pytest.fixture
def app(finder: ServiceFinder, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """A root app with a ``train`` group, as ``jisr lang`` assembles them, using the
    module's finder instead of building the process-wide one."""
    monkeypatch.setattr(command, "default_finder", lambda: finder)
    root, train = typer.Typer(), typer.Typer()
    register(root, train)
    root.add_typer(train, name="train")
    return root


def test_json_result_per_argument(app: typer.Typer) -> None:
    """Each argument gives one JSON line: the query and its services, best first."""
    result = CliRunner().invoke(
        app, ["find-service", "--json", "--limit", "2", "bghit nkhrej l passport", "ⵜⴰⴷⵓⵙⵉ ⵇⴰⵟⴰⵕ"]
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["query"] == "bghit nkhrej l passport"
    assert first["results"][0]["service"] == "ma.passport.application"
    assert len(first["results"]) == 2
    assert first["results"][0]["score"] >= first["results"][1]["score"]
    assert second["results"][0]["service"] == "qa.health.card"


def test_human_lines_from_stdin(app: typer.Typer) -> None:
    """Without arguments stdin lines are read; each gives one line: query, tab, ranking."""
    result = CliRunner().invoke(app, ["find-service", "--limit", "1"], input="رخصة السياقة\n")
    assert result.exit_code == 0, result.output
    query, ranked = result.stdout.rstrip("\n").split("\t")
    assert query == "رخصة السياقة"
    assert ranked.startswith("ma.driving.licence ")


def test_rejected_line_is_reported_and_the_rest_processed(app: typer.Typer) -> None:
    """An empty line gives an error object with its line number; exit status 1."""
    result = CliRunner().invoke(app, ["find-service", "--json"], input="visa\n\ncarte grise\n")
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[1] == {"line": 2, "error": {"code": "empty", "detail": "the text is empty"}}
    assert lines[2]["results"][0]["service"] == "ma.vehicle.registration"


def test_limit_out_of_range_is_a_usage_error(app: typer.Typer) -> None:
    """--limit 0 exits with status 2 before reading anything."""
    result = CliRunner().invoke(app, ["find-service", "--limit", "0", "visa"])
    assert result.exit_code == 2


def test_nothing_is_added_to_train(app: typer.Typer) -> None:
    """The finder ships no trained artefact, so ``train`` gets no command."""
    result = CliRunner().invoke(app, ["train", "--help"])
    assert "find-service" not in result.stdout
