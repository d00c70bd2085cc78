"""``jisr lang identify`` and ``jisr lang train identify`` through a local Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from jisr.language.identify.command import register
from jisr.language.identify.model import MODEL_FILE, load_model
from jisr.language.identify.training import METRICS_FILE


def _app() -> typer.Typer:
    app = typer.Typer()
    train = typer.Typer()
    register(app, train)
    app.add_typer(train, name="train")
    return app


def test_json_prints_one_object_per_argument() -> None:
    result = CliRunner().invoke(_app(), ["identify", "--json", "Bonjour à tous", "🙂"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["label"] for line in lines] == ["fra_Latn", "und"]
    assert lines[0]["text"] == "Bonjour à tous"
    assert set(lines[0]) == {"text", "label", "scores", "spans"}
    assert abs(sum(lines[0]["scores"].values()) - 1.0) < 1e-4


def test_stdin_lines_with_bad_ones_reported_in_place_and_exit_1() -> None:
    """An empty line and invalid UTF-8 are error lines; the other lines are identified."""
    data = b"I need a new passport\n\n" + b"caf\xe9\n" + "واش كاين شي مشكل\n".encode()
    result = CliRunner().invoke(_app(), ["identify", "--json"], input=data)
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["label"] == "eng_Latn"
    assert lines[1] == {"line": 2, "error": {"code": "empty", "detail": "the text is empty"}}
    assert lines[2]["line"] == 3
    assert lines[2]["error"]["code"] == "invalid_utf8"
    assert lines[3]["label"] == "ary_Arab"


def test_human_output_names_the_label_and_the_spans() -> None:
    text = "salam, je voudrais l'acte de naissance dyal weldi"
    result = CliRunner().invoke(_app(), ["identify", text])
    assert result.exit_code == 0
    _, probability, echoed, spans = result.stdout.rstrip("\n").split("\t")
    assert echoed == text
    assert 0.0 <= float(probability) <= 1.0
    assert spans.startswith("ary_Latn: salam | fra_Latn: je voudrais")


def test_train_writes_a_model_that_loads_and_the_same_bytes_twice(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        arguments = ["train", "identify", "--data", str(tiny_corpus), "--out", str(out)]
        result = CliRunner().invoke(_app(), arguments)
        assert result.exit_code == 0, result.output
        assert "wrote" in result.stdout
    assert (first / MODEL_FILE).read_bytes() == (second / MODEL_FILE).read_bytes()
    assert (first / METRICS_FILE).read_bytes() == (second / METRICS_FILE).read_bytes()
    assert "fra_Latn" in load_model(first).labels


def test_train_without_data_is_a_usage_error(tmp_path: Path) -> None:
    arguments = ["train", "identify", "--data", str(tmp_path), "--out", str(tmp_path / "m")]
    result = CliRunner().invoke(_app(), arguments)
    assert result.exit_code == 2
    assert not (tmp_path / "m").exists()
