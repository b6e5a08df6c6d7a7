"""The `retailos walkout` commands: happy paths and clear one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retailos.sim import fourth, second, store, third
from retailos.walkout.cli import _simulators, _write_benchmarks, app
from retailos.walkout.recording import read_recording
from retailos.walkout.scoring import make_receipts, score

runner = CliRunner()


def test_every_generators_suites_have_names_of_their_own() -> None:
    # the registry merges the generators' names: a name used twice would silently run the
    # later generator for both
    names = [*store.SUITES, *second.SCENARIOS, *third.SUITES, *fourth.SUITES]
    assert len(set(names)) == len(names)
    assert list(_simulators()) == names
    assert _simulators()["lunch"] is fourth.simulate and _simulators()["rush"] is third.simulate


def _files(tmp_path: Path) -> tuple[Path, Path]:
    receipts = tmp_path / "receipts.json"
    truth = tmp_path / "truth.json"
    receipts.write_text(json.dumps(make_receipts([
        {"account_id": "a", "items": [{"sku": "x", "qty": 2}], "exit_t": 5.0, "emitted_t": 5.5},
    ])))  # fmt: skip
    truth.write_text(json.dumps({"receipts": [
        {"account_id": "a", "items": [{"sku": "x", "qty": 1}]},
        {"account_id": "b", "items": []},
    ], "actions": []}))  # fmt: skip
    return receipts, truth


def test_score_prints_machine_readable_json(tmp_path: Path) -> None:
    receipts, truth = _files(tmp_path)
    result = runner.invoke(app, ["score", str(receipts), str(truth), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["precision"] == 0.5 and doc["recall"] == 1.0
    assert doc["missing_receipts"] == 1
    assert doc["latency_max_s"] == 0.5


def test_score_prints_a_table_by_default(tmp_path: Path) -> None:
    receipts, truth = _files(tmp_path)
    result = runner.invoke(app, ["score", str(receipts), str(truth)])
    assert result.exit_code == 0
    assert "F1" in result.output and "0.6667" in result.output


def test_score_of_an_invalid_receipts_file_is_a_one_line_error(tmp_path: Path) -> None:
    receipts, truth = _files(tmp_path)
    doc = json.loads(receipts.read_text())
    doc["receipts"].append(doc["receipts"][0])
    receipts.write_text(json.dumps(doc))
    result = runner.invoke(app, ["score", str(receipts), str(truth)])
    assert result.exit_code == 2
    assert "second receipt" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--suite", "nope", "--seed", "1", "--out", "x"],
        ["simulate", "--suite", "standard", "--seed", "1", "--out", "x", "--minutes", "0"],
        ["replay", "/nonexistent/recording"],
        ["score", "/nonexistent/receipts.json", "/nonexistent/truth.json"],
        ["report", "--seeds", "a,b"],
        ["report", "--suites", "nope"],
    ],
)
def test_bad_input_exits_with_code_two_and_no_traceback(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize("suite", ["standard", "busy"])  # ours, and the second generator's
def test_simulate_writes_a_recording(tmp_path: Path, suite: str) -> None:
    out = tmp_path / "rec"
    result = runner.invoke(app, ["simulate", "--suite", suite, "--seed", "2",
                                 "--minutes", "0.5", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert read_recording(out).store["plates"]
    assert (out / "truth.json").is_file()


def test_the_report_section_replaces_only_its_own_markers(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nintro\n\n<!-- walkout-report:start -->\nstale figures\n"
                    "<!-- walkout-report:end -->\n\n## Other\nkeep me\n")  # fmt: skip
    truth = {"receipts": [{"account_id": "a", "items": []}], "actions": []}
    receipts = make_receipts([{"account_id": "a", "items": [], "exit_t": 1.0, "emitted_t": 1.2}])
    run = {"suite": "standard", "seed": 101, "score": score(receipts, truth),
           "simulate_s": 1.0, "replay_s": 2.0, "plates": 600}  # fmt: skip
    _write_benchmarks(page, [run], 3.0)
    text = page.read_text()
    assert "stale figures" not in text
    assert text.startswith("# Benchmarks\n\nintro\n")
    assert text.rstrip().endswith("## Other\nkeep me")
    assert "| standard | 600 | 1 | 0 |" in text


def test_simulate_replay_and_score_chain_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    receipts = tmp_path / "receipts.json"
    simulated = runner.invoke(app, ["simulate", "--suite", "standard", "--seed", "21",
                                    "--minutes", "0.6", "--out", str(out)])  # fmt: skip
    assert simulated.exit_code == 0, simulated.output
    replayed = runner.invoke(app, ["replay", str(out), "--out", str(receipts)])
    assert replayed.exit_code == 0, replayed.output
    scored = runner.invoke(app, ["score", str(receipts), str(out / "truth.json"), "--json"])
    assert scored.exit_code == 0, scored.output
    assert 0.0 <= json.loads(scored.output)["f1"] <= 1.0


def test_replay_of_a_broken_recording_names_the_file(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    runner.invoke(app, ["simulate", "--suite", "standard", "--seed", "2", "--minutes", "0.2",
                        "--out", str(out)])  # fmt: skip
    (out / "gates.csv").write_text("nope\n")
    result = runner.invoke(app, ["replay", str(out), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "gates.csv" in result.output and "Traceback" not in result.output


def test_receipts_into_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    runner.invoke(app, ["simulate", "--suite", "standard", "--seed", "2", "--minutes", "0.2",
                        "--out", str(out)])  # fmt: skip
    result = runner.invoke(app, ["replay", str(out), "--out", str(tmp_path / "no" / "r.json")])
    assert result.exit_code == 2
    assert "cannot write" in result.output and "Traceback" not in result.output


def test_the_report_section_is_appended_to_a_page_without_markers(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nother figures\n")
    truth = {"receipts": [{"account_id": "a", "items": []}], "actions": []}
    receipts = make_receipts([{"account_id": "a", "items": [], "exit_t": 1.0, "emitted_t": 1.2}])
    run = {"suite": "standard", "seed": 101, "score": score(receipts, truth),
           "simulate_s": 1.0, "replay_s": 2.0, "plates": 600}  # fmt: skip
    _write_benchmarks(page, [run], 5.0)
    text = page.read_text()
    assert text.startswith("# Benchmarks\n\nother figures\n\n<!-- walkout-report:start -->")
    assert text.rstrip().endswith("<!-- walkout-report:end -->")
