"""The command line: validate and sample."""

from __future__ import annotations

import shutil

import pandas as pd

from cxassess.cli import main

from .conftest import SAMPLE


def test_validate_reports_a_bad_value_with_its_example_and_the_fix(tmp_path, capsys):
    dataset = tmp_path / "sample"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("2025Q4", "2026Q1", "2026Q2"))
    assert main(["validate", "--dataset", str(dataset)]) == 0
    assert "Data-quality gate passed for sample 2026Q3" in capsys.readouterr().out
    tickets = dataset / "2026Q3" / "tickets.csv"
    lines = tickets.read_text().splitlines(keepends=True)
    fields = lines[3].split(",")
    fields[1] = "31.02.2026 25:00"
    lines[3] = ",".join(fields)
    tickets.write_text("".join(lines))
    # one row in 2,500 is a warning: the row is quarantined, the exit status stays 0
    assert main(["validate", "--dataset", str(dataset), "--quarantine", str(tmp_path / "q")]) == 0
    out = capsys.readouterr().out
    assert "WARNING tickets.created_at: created_at cannot be read as a full date and time (1 row(s); e.g. 31.02.2026 25:00)" in out
    assert "1 of 27,300 rows quarantined" in out
    held = (tmp_path / "q" / "quarantine" / "tickets.csv").read_text().splitlines()
    assert len(held) == 2 and held[1].startswith("3,") and "31.02.2026 25:00" in held[1]


def test_missing_required_column_stops_with_the_fix(tmp_path, capsys):
    dataset = tmp_path / "sample"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("2025Q4", "2026Q1", "2026Q2"))
    tickets = dataset / "2026Q3" / "tickets.csv"
    tickets.write_text(tickets.read_text().replace("created_at,", "opened,", 1))
    assert main(["validate", "--dataset", str(dataset)]) == 1
    out = capsys.readouterr().out
    assert "CRITICAL tickets.(columns): required column(s) of the tickets table are missing" in out
    assert "missing: created_at" in out and "columns: in review.yml" in out


def test_sample_command_writes_a_small_dataset(tmp_path, capsys):
    assert main(["sample", "--tickets", "400", "--out", str(tmp_path / "s"), "--name", "tiny"]) == 0
    assert (tmp_path / "s" / "2026Q3" / "tickets.csv").read_text().count("\n") == 101
    assert "name: tiny" in (tmp_path / "s" / "review.yml").read_text()


def test_sample_writes_the_cycles_and_tickets_per_cycle_asked_for(tmp_path, capsys):
    from cxassess.cli import main

    out = tmp_path / "d"
    assert main(["sample", "--tickets-per-cycle", "300", "--cycles", "2026Q2,2026Q3", "--survey-share", "0.5",
                 "--categorised-share", "0", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["2026Q2", "2026Q3"]
    for cycle in ("2026Q2", "2026Q3"):
        tickets = pd.read_csv(out / cycle / "tickets.csv")
        events = pd.read_csv(out / cycle / "events.csv")
        surveys = pd.read_csv(out / cycle / "surveys.csv")
        assert len(tickets) == 300 and tickets["ticket_id"].is_unique
        assert "Categorised" not in set(events["activity"])
        closed = tickets["closed_at"].notna().sum()
        assert 0.3 * closed < len(surveys) < 0.7 * closed  # about half of the closed tickets
        assert (events["activity"] == "Survey sent").sum() == len(surveys)
    assert "300 tickets per cycle" in capsys.readouterr().out
    assert main(["sample", "--cycles", "2026Q3,2026Q3", "--out", str(tmp_path / "e")]) == 1
    assert main(["sample", "--survey-share", "2", "--out", str(tmp_path / "e")]) == 1


def test_sample_of_the_ecommerce_template_as_the_readme_runs_it(tmp_path, capsys):
    """README: ``cxassess sample --template ecommerce --out /tmp/shop``; it failed with a
    TypeError (no --tickets), and --tickets-per-cycle and --cycles were ignored."""
    import pytest

    def orders(out, cycle):  # orders = distinct journeys of the event log, counted by hand
        return pd.read_csv(out / cycle / "events.csv", dtype=str)["ticket_id"].nunique()

    shop = tmp_path / "shop"
    assert main(["sample", "--template", "ecommerce", "--out", str(shop)]) == 0
    assert sorted(p.name for p in shop.iterdir() if p.is_dir()) == ["2026Q2", "2026Q3"]
    assert [orders(shop, c) for c in ("2026Q2", "2026Q3")] == [400, 400]  # the template's default
    other = tmp_path / "other"
    assert main(["sample", "--template", "ecommerce", "--tickets-per-cycle", "60", "--cycles", "2026Q1,2026Q3",
                 "--out", str(other)]) == 0
    assert sorted(p.name for p in other.iterdir() if p.is_dir()) == ["2026Q1", "2026Q3"]
    assert [orders(other, c) for c in ("2026Q1", "2026Q3")] == [60, 60]
    assert "60 orders per cycle, cycles 2026Q1, 2026Q3" in capsys.readouterr().out
    for bad in ("-5", "0"):  # a usage error (exit 2) naming the option, not an internal error
        with pytest.raises(SystemExit) as stop:
            main(["sample", "--tickets", bad, "--out", str(tmp_path / "e")])
        assert stop.value.code == 2
        assert f"argument --tickets: '{bad}' is not a whole number of at least 1" in capsys.readouterr().err


def test_review_refuses_a_previous_cycle_that_is_not_an_earlier_cycle_of_the_same_kind(tmp_path, capsys):
    # the sample holds 2025Q4, 2026Q1, 2026Q2, 2026Q3: reviewing 2026Q2 may compare with 2025Q4 or 2026Q1
    empty = tmp_path / "notebooks"
    empty.mkdir()
    reports = tmp_path / "reports"
    for previous, problem in (("2026Q3", "a later cycle"), ("2026Q2", "the same cycle"),
                              ("2026-05", "it is a month, 2026Q2 a quarter")):
        code = main(["review", "--dataset", str(SAMPLE), "--cycle", "2026Q2", "--previous", previous,
                     "--notebooks", str(empty), "--reports", str(reports)])
        err = capsys.readouterr().err
        assert code == 1 and "Traceback" not in err
        assert f"--previous '{previous}' cannot be compared with 2026Q2" in err and problem in err
        assert "allowed: 2025Q4, 2026Q1" in err
        assert not reports.exists()
    # an earlier quarter passes the check (and stops at the empty notebook folder)
    assert main(["review", "--dataset", str(SAMPLE), "--cycle", "2026Q2", "--previous", "2025Q4",
                 "--notebooks", str(empty), "--reports", str(reports)]) == 1
    assert "no notebook found" in capsys.readouterr().err


def test_check_config_help_lists_every_review_yml_key(capsys):
    """README: "Every review.yml key: `cxassess check-config --help` ..."; the help listed
    only --dataset. Every top-level key of the sample's review.yml (read here with PyYAML)
    and nested keys picked by hand from it must be listed, each once, with its meaning."""
    import pytest
    import yaml

    with pytest.raises(SystemExit) as stop:
        main(["check-config", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    # a list of sections is listed as key[] (sla[], qa_scorecard[])
    listed = [line.split(":")[0].strip().removesuffix("[]") for line in out.splitlines()
              if line.startswith("  ") and ":" in line]
    keys = list(yaml.safe_load((SAMPLE / "review.yml").read_text(encoding="utf-8")))
    nested = ["calendar.working_hours.sat", "calendar.holidays", "process.stages[].target_hours",
              "process.stages[].customer_time", "process.transitions", "sla[].clock", "sla[].priorities",
              "qa_scorecard[].auto_fail", "qa.pseudonymise_agents", "quality.window_tolerance_days",
              "improvement.follow_up_days", "kpis.fcr_max_contacts", "kpis.min_important_difference",
              "surveys.scales"]
    for key in keys + nested:
        assert listed.count(key) == 1, key
    assert "  timezone: text (required). IANA zone" in out
    assert "  min_n: " in out and "  --dataset DATASET  dataset folder with review.yml" in out


def test_every_help_names_the_defaults_of_dataset_reports_out_and_seed(capsys):
    """Without --dataset a command reads data/sample ("dataset folder 'data/sample' not found"
    from another folder) and writes under ./reports: each help says so (the defaults of
    _parser, written here by hand)."""
    import pytest

    expected = {("review", "--dataset"): "default: data/sample", ("review", "--reports"): "default: reports",
                ("pdf", "--dataset"): "default: data/sample", ("pdf", "--reports"): "default: reports",
                ("validate", "--dataset"): "default: data/sample", ("check-config", "--dataset"): "default: data/sample",
                ("history", "--dataset"): "default: data/sample", ("history", "--reports"): "default: reports",
                ("sample", "--out"): "default: data/sample", ("sample", "--seed"): "default 20263"}
    for (command, option), words in expected.items():
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help over lines
        after = out.split(f" {option} ", 1)[1]
        assert words in after.split(" --", 1)[0], (command, option)


def test_schema_update_of_a_missing_file_or_a_folder_says_which_file_is_meant(tmp_path, capsys):
    """`cxassess schema --update` on a path that is no README: one line saying what the
    path is and which file to give, exit status 1 (an error cxassess raises on purpose),
    no OS error text."""
    for path, what in ((tmp_path / "nofile.md", "no such file"), (tmp_path, "is a folder")):
        assert main(["schema", "--update", str(path)]) == 1
        err = capsys.readouterr().err
        assert f": {what}. How to fix: give the README that holds the data contract's tables" in err
        assert "Errno" not in err and "Traceback" not in err
