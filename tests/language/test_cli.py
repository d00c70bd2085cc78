"""``jisr lang``: every command is reachable from the top-level CLI and speaks JSON lines."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from jisr.cli import app

runner = CliRunner()


def _lines(*args: str, stdin: bytes | None = None) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(app, ["lang", *args], input=stdin)
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_each_command_prints_one_json_object_per_input_line() -> None:
    assert _lines("identify", "--json", "3afak bghit l passport")[1][0]["label"] == "ary_Latn"
    assert _lines(
        "transliterate", "--source", "zgh_Tfng", "--target", "ber_Latn", "--json", "ⴰⵣⵓⵍ"
    )[1] == [{"text": "ⴰⵣⵓⵍ", "result": "azul"}]
    assert _lines("names", "match", "--json", "يوسف", "Youcef")[1][0]["match"] is True
    found = _lines("find-service", "--json", "acte de naissance")[1][0]
    assert found["results"][0]["service"] == "ma.civil.birth-certificate"


def test_stdin_items_are_processed_one_per_line_and_a_bad_line_sets_status_1() -> None:
    code, lines = _lines("identify", "--json", stdin=b"salam\n\xff\nhello world\n")
    assert code == 1
    assert [line.get("line") for line in lines] == [None, 2, None]
    assert lines[1]["error"]["code"] == "invalid_utf8"  # type: ignore[index]
    assert lines[2]["label"] == "eng_Latn"


def test_train_lists_the_reproducible_models() -> None:
    result = runner.invoke(app, ["lang", "train", "--help"])
    assert result.exit_code == 0
    assert "identify" in result.stdout and "arabizi" in result.stdout
