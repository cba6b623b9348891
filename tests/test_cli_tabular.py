"""`workbench build --data FILE.csv --target COL`: a workbook from any CSV, or one clear line and exit 2."""

from __future__ import annotations

import re
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest

import workbench as wb
from workbench.cli import main
from workbench.sheets.read.table_reader import read_recipe
from workbench.tabular.columns import num
from workbench.titanic.split import valid_mask


def csv(tmp_path, frame: pd.DataFrame, name: str = "table.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def good(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n), "colour": rng.choice(["red", "blue", "green"], n)})
    frame["y"] = (frame.x + rng.normal(size=n) > 0).astype(int)
    return frame


def refused(capsys, tmp_path, argv: list[str], *words: str) -> str:
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("workbench: error: "), err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()  # nothing written, not even the folder
    return err


def test_a_csv_becomes_its_workbook(capsys, tmp_path):
    path = csv(tmp_path, good(), "class data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning from pandas or torch reaches the user
        assert main(["build", "--data", str(path), "--target", "y", "--out", str(tmp_path / "o"), "-q"]) == 0
    book = openpyxl.load_workbook(tmp_path / "o" / "class data.xlsx")
    shown = ["features", "linear", "nnet", "mmult", "sigmoid", "descent", "summary", "notes"]
    assert book.sheetnames == [*shown, "recipe"] and book["recipe"].sheet_state == "veryHidden"
    out, err = capsys.readouterr()
    assert out.count("colour_") >= 2 and "baseline" in out  # the recipe, explained
    assert err == ""


def test_the_target_missing(capsys, tmp_path):
    path = csv(tmp_path, good())
    refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "z"], "'z'", "table.csv")


def test_a_constant_target(capsys, tmp_path):
    path = csv(tmp_path, good().assign(y=1))
    refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "y"], "'y'", "every row")


def test_a_text_target_of_more_than_two_values(capsys, tmp_path):
    path = csv(tmp_path, good())
    refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "colour"], "3 values")


def test_a_category_with_too_many_levels_lumps_the_rare_ones(capsys, tmp_path):
    frame = good(60).assign(town=[f"t{i % 15}" for i in range(60)])
    path = csv(tmp_path, frame)
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "town_other: 1 where town is none of the 9 most common levels" in out
    assert "least common levels (" in out and "train rows) share one column" in out
    # the column's reason once, for its 8 dummies and its other column, not once for each
    assert out.count("town: text with 15 levels") == 1
    assert re.search(r"\ntown_t\w+(, town_t\w+){7}: 1 where town is that level, else 0\. town: text", out)


def test_hints_speak_the_command_line(capsys, tmp_path):
    frame = good(30).assign(**{f"x{j}": np.arange(30.0) ** (1 + j / 7) for j in range(20)})
    path = csv(tmp_path, frame)
    numbers = ["--numeric", *(f"x{j}" for j in range(20))]  # the user's choices: kept, so too many
    err = refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "y", *numbers], "e.g. --drop ")
    assert "drop=[" not in err


def test_too_few_rows(capsys, tmp_path):
    path = csv(tmp_path, good(8))
    err = refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "y"], "too few rows")
    assert "choose a target" not in err  # every row has one
    frame = good(100).astype({"y": float})
    frame.loc[6:, "y"] = np.nan  # a target on 6 rows of 100
    path = csv(tmp_path, frame, "sparse.csv")
    refused(
        capsys, tmp_path, ["build", "--data", str(path), "--target", "y"],
        "94 without a value of 'y' dropped", "choose a target column with a value on more rows",
    )  # fmt: skip


def test_too_many_columns_for_a_sheet(capsys, tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(500, 210)), columns=[f"c{j}" for j in range(210)])
    frame["y"] = rng.integers(0, 2, 500)
    path = csv(tmp_path, frame)
    forced = ["--numeric", *frame.columns[:210]]
    refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "y", *forced], "211 features")
    out = tmp_path / "o"
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(out), "-q"]) == 0
    report = capsys.readouterr().out
    assert report.count("less than the columns kept, and a sheet shows at most 200 features") == 11


def test_table_options_need_a_target(capsys, tmp_path):
    refused(capsys, tmp_path, ["build", "--drop", "Name"], "--drop", "--target")
    refused(capsys, tmp_path, ["build", "--target", "y"], "--data")


def test_the_lesson_recipe_needs_titanic(capsys, tmp_path):
    path = csv(tmp_path, good())
    argv = ["build", "--data", str(path), "--target", "y", "--recipe", "lesson"]
    refused(capsys, tmp_path, argv, "Survived")


def test_na_marks_a_word_as_missing(capsys, tmp_path):
    frame = good(60).astype({"x": object})
    frame.loc[3, "x"] = "unknown"
    path = csv(tmp_path, frame)
    refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "y"], "'unknown'", "--na")
    out = tmp_path / "ok"
    argv = ["build", "--data", str(path), "--target", "y", "--na", "unknown", "--out", str(out), "-q"]
    assert main(argv) == 0
    assert (out / "table.xlsx").is_file()


def test_a_table_too_big_for_the_memory_budget(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MEMORY_BUDGET", "10MiB")  # enough to read the file, not to build
    path = csv(tmp_path, good(2000))
    refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "y"], "memory", "2,000 rows")


def labelled(ws) -> dict[str, object]:
    """Each ``Label:`` cell's neighbour to the right, as the sheet stores it."""
    return {
        c.value: ws.cell(c.row, c.column + 1).value
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.endswith(":")
    }


def test_a_csv_saved_where_the_comma_is_the_decimal_mark_builds_the_same_workbook(capsys, tmp_path):
    """Semicolons between fields and decimal commas, as a spreadsheet saves "CSV" in much of
    Europe: the same fits as the comma file, the report saying how it was read; then a file of new
    rows saved the same way is predicted."""
    frame = good(60, seed=4)
    commas = csv(tmp_path, frame, "commas.csv")
    semis = tmp_path / "semis.csv"
    frame.to_csv(semis, index=False, sep=";", decimal=",")
    assert repr(float(frame.x[0])).replace(".", ",") in semis.read_text()  # a decimal comma
    reports = []
    for path in (commas, semis):
        assert (
            main(["build", "--data", str(path), "--target", "y", "--out", str(tmp_path / path.stem), "-q"])
            == 0
        )
        reports.append(capsys.readouterr().out)
    assert (
        "rows: 60 rows read; fields separated by semicolons; decimal commas in x; 60 rows kept" in reports[1]
    )
    fits = [[line for line in r.splitlines() if " loss " in line] for r in reports]
    assert fits[0] == fits[1] and len(fits[0]) == 3
    new = tmp_path / "new.csv"
    frame.drop(columns="y").head(5).to_csv(new, index=False, sep=";", decimal=",")
    preds = tmp_path / "preds.csv"
    argv = [
        "predict",
        "--params",
        str(tmp_path / "semis" / "semis.xlsx"),
        "--data",
        str(new),
        "--out",
        str(preds),
    ]
    assert main(argv) == 0
    assert len(pd.read_csv(preds)) == 5


def test_a_category_with_a_word_among_its_numbers_predicts_new_rows_of_numbers_alike(capsys, tmp_path):
    """Cylinders 4, 6, 8 and 'rotary' is read as text; new rows whose Cylinders are all numbers must
    be read as text too, or no level would match and every row would be the baseline."""
    rng = np.random.default_rng(5)
    cylinders = rng.choice(["4", "6", "8"], 80).tolist()
    cylinders[7] = "rotary"
    frame = pd.DataFrame({"Cylinders": cylinders, "size": rng.normal(size=80)})
    frame["y"] = frame.Cylinders.map({"4": 1.0, "6": 2.0, "8": 3.0, "rotary": 2.5}) + frame["size"]
    path = csv(tmp_path, frame)
    out = tmp_path / "o"
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(out), "-q"]) == 0
    report = capsys.readouterr().out
    assert "Cylinders as categories, 'rotary' a level among its numbers" in report
    assert re.search(
        r"\nCylinders_\w+(, Cylinders_\w+)+: 1 where Cylinders is that level, else 0\. Cylinders:", report
    )
    numbers = csv(tmp_path, frame.drop(index=7, columns="y"), "numbers.csv")
    every = csv(tmp_path, frame.drop(columns="y"), "every.csv")
    got = {}
    for new in (numbers, every):
        target = tmp_path / f"{new.stem}_preds.csv"
        assert (
            main(["predict", "--params", str(out / "table.xlsx"), "--data", str(new), "--out", str(target)])
            == 0
        )
        got[new.stem] = pd.read_csv(target).set_index("row")["y"]
    assert "rows have a Cylinders the train rows never showed" not in capsys.readouterr().out
    # the same rows predicted alike, whether or not 'rotary' is among them (row numbers shift by one after 7)
    np.testing.assert_array_equal(got["numbers"].to_numpy(), got["every"].drop(index=8).to_numpy())


def test_an_identifier_with_a_letter_among_its_numbers_is_refused_then_dropped_as_the_hint_says(
    capsys, tmp_path
):
    frame = good(120)
    frame.insert(0, "family", [str(i // 2) for i in range(120)])
    frame.loc[5, "family"] = "2A"
    path = csv(tmp_path, frame)
    refused(
        capsys, tmp_path, ["build", "--data", str(path), "--target", "y"], "'2A'", "--drop family", "--na 2A"
    )
    out = tmp_path / "o"
    assert (
        main(["build", "--data", str(path), "--target", "y", "--out", str(out), "-q", "--drop", "family"])
        == 0
    )
    assert "left out 'family'" in capsys.readouterr().out


def test_the_report_gives_each_sheet_s_train_and_valid_scores_as_its_cells(capsys, tmp_path):
    path = csv(tmp_path, good(80, seed=3))
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(tmp_path / "o"), "-q"]) == 0
    out = capsys.readouterr().out
    book = openpyxl.load_workbook(tmp_path / "o" / "table.xlsx", data_only=True)
    for sheet in ("linear", "nnet", "sigmoid"):
        line = next(s for s in out.splitlines() if s.startswith(f"{sheet}: "))
        cells = labelled(book[sheet])
        assert f"train loss {cells['Train loss:']:.10g}, accuracy {cells['Train accuracy:']:.2%}" in line
        assert f"valid loss {cells['Valid loss:']:.10g}, accuracy {cells['Valid accuracy:']:.2%}" in line


def test_a_leak_is_flagged_in_the_report_and_kept_on_request(capsys, tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "y": rng.normal(size=60)})
    frame["y_cents"] = (frame.y * 100).round()
    path = csv(tmp_path, frame)
    out = tmp_path / "out"
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(out), "-q"]) == 0
    report = capsys.readouterr().out
    assert "left out 'y_cents': warning: alone it explains" in report and "--keep-leak y_cents" in report
    argv = ["build", "--data", str(path), "--target", "y", "--out", str(out), "--keep-leak", "y_cents"]
    assert main(argv) == 0
    assert "y_cents_N" in capsys.readouterr().out


def _preds_on_sheet(book, sheet: str) -> list[float]:
    ws = openpyxl.load_workbook(book, data_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if "Preds" in r)
    j = rows[at].index("Preds")
    return [r[j] for r in rows[at + 1 :]]


@pytest.mark.parametrize("sheet", ["linear", "nnet", "mmult", "sigmoid"])
def test_predict_with_a_tables_workbook_gives_its_sheets_predictions(capsys, tmp_path, sheet):
    frame = good(60).assign(colour=lambda f: f.colour.where(f.index % 7 != 3))  # gaps, filled
    path = csv(tmp_path, frame)
    out = tmp_path / "out"
    assert (
        main(["build", "--data", str(path), "--target", "y", "--out", str(out), "--missing", "fill", "-q"])
        == 0
    )
    book = out / "table.xlsx"
    preds = tmp_path / "preds.csv"
    argv = ["predict", "--params", str(book), "--data", str(path), "--out", str(preds), "--model", sheet]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert f"wrote {preds}: 60 rows" in said and f"({sheet} sheet of {book})" in said
    got = pd.read_csv(preds)
    assert list(got.columns) == ["row", "y"] and list(got.row) == list(range(1, 61))
    # the sheet's own predictions (Python's cached values), as 0/1: the CSV's rows are the book's rows
    want = [int(p > 0.5) for p in _preds_on_sheet(book, sheet)]
    assert list(got.y) == want


def test_predict_refuses_rows_the_recipe_cannot_take(capsys, tmp_path):
    path = csv(tmp_path, good(60))
    out = tmp_path / "out"
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(out), "-q"]) == 0
    gaps = good(5).assign(x=[1.0, None, 3.0, None, 5.0], colour=["red", "blue", None, "red", "red"])
    new = csv(tmp_path, gaps, "new.csv")
    predict = ["predict", "--data", str(new), "--out", str(tmp_path / "p.csv")]
    assert main([*predict, "--params", str(out / "table.xlsx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line, every column with a gap named at once, and the way out
    assert "'x' on 2 rows (first: row 2), 'colour' on 1 row (first: row 3)" in err
    assert "built dropping rows with a gap" in err and "--missing fill" in err
    assert not (tmp_path / "p.csv").exists()
    # The way out is true: a book built with --missing fill predicts those very rows, each gap filled
    # from the train rows, whether or not its own table had gaps in that column (as the lesson fills
    # test.csv's one missing Fare, though train.csv misses none).
    holed = good(60).assign(x=lambda f: f.x.where(f.index % 7 != 0))
    for name, table in (("holed.csv", holed), ("table.csv", good(60))):
        argv = ["build", "--data", str(csv(tmp_path, table, name)), "--target", "y", "-q"]
        assert main([*argv, "--out", str(tmp_path / "filled"), "--missing", "fill", "--force"]) == 0
        capsys.readouterr()
        assert main([*predict, "--params", str(tmp_path / "filled" / name.replace(".csv", ".xlsx"))]) == 0
        assert len(pd.read_csv(tmp_path / "p.csv")) == 5
        said = capsys.readouterr().out
        train = table.x[~valid_mask(60)].median()  # the fill comes from the train rows only
        assert f"2 rows have no x: filled with the median {num(train)} of the train rows" in said
        assert "1 row has no colour: counted as the baseline (every dummy 0)" in said


def test_predict_names_the_missing_fill_keyword_in_python(tmp_path):
    from workbench.errors import DataError
    from workbench.sheets.read.table_reader import read_recipe
    from workbench.tabular import read_table
    from workbench.tabular.stored import apply

    out = tmp_path / "out"
    assert (
        main(["build", "--data", str(csv(tmp_path, good(60))), "--target", "y", "--out", str(out), "-q"]) == 0
    )
    new = read_table(csv(tmp_path, good(3).assign(x=[1.0, None, 2.0]), "new.csv"))
    with pytest.raises(DataError, match="missing='fill'"):
        apply(read_recipe(out / "table.xlsx"), new, "new.csv")


def test_predict_reads_new_rows_digits_grouped_as_the_books_were(capsys, tmp_path):
    """Built from 1.234,5-style numbers (semicolons, decimal commas), the book reads new rows' 1.234
    as 1234, though alone, with no decimal comma beside it, it could be a decimal point."""
    rng = np.random.default_rng(4)
    price = rng.uniform(200, 9000, 80).round(2)
    frame = pd.DataFrame({"Preis": price, "y": (price + rng.normal(0, 2000, 80) > 4000).astype(int)})

    def german(x: float, decimals: bool = True) -> str:
        grouped = f"{x:,.2f}" if decimals else f"{x:,.0f}"
        return grouped.replace(",", " ").replace(".", ",").replace(" ", ".")

    table = tmp_path / "preise.csv"
    table.write_text(
        "Preis;y\n" + "".join(f"{german(p)};{y}\n" for p, y in zip(frame.Preis, frame.y, strict=True))
    )
    out = tmp_path / "out"
    assert main(["build", "--data", str(table), "--target", "y", "--out", str(out), "-q"]) == 0
    whole = [1234.0, 950.0, 7500.0, 2001.0]
    answers = []
    for name, texts in (("plain.csv", [german(x, False) for x in whole]), ("shown.csv", map(german, whole))):
        new = tmp_path / name
        new.write_text("Preis;y\n" + "".join(f"{t};0\n" for t in texts))
        preds = tmp_path / f"p_{name}"
        argv = ["predict", "--params", str(out / "preise.xlsx"), "--data", str(new), "--out", str(preds)]
        assert main([*argv, "--model", "linear"]) == 0
        answers.append(pd.read_csv(preds).y.tolist())
    assert (tmp_path / "plain.csv").read_text().splitlines()[1] == "1.234;0"  # no decimal comma in sight
    assert answers[0] == answers[1]
    assert answers[1][0] == 0 and answers[1][2] == 1  # 1234 and 7500 (as 1.234 and 7.5: both 0)
    recipe = read_recipe(out / "preise.xlsx")
    scale = next(f.scale for f in recipe.features if f.source == "Preis")
    assert recipe.grouped == ("Preis",) and scale == frame.Preis[~valid_mask(80)].abs().max()


def test_predict_takes_percents_only_as_the_books_table_wrote_them(capsys, tmp_path):
    """12% is 0.12: new rows whose column says 12 would be read 100 times too large."""
    rng = np.random.default_rng(5)
    cut = rng.choice([0, 5, 10, 15, 20, 25, 30, 35, 40, 50, 60], 80)
    frame = pd.DataFrame({"cut": [f"{c}%" for c in cut], "y": (cut + rng.normal(0, 10, 80) > 25).astype(int)})
    table = csv(tmp_path, frame, "shop.csv")
    out = tmp_path / "out"
    assert main(["build", "--data", str(table), "--target", "y", "--out", str(out), "-q"]) == 0
    assert read_recipe(out / "shop.xlsx").percents == ("cut",)
    predict = ["predict", "--params", str(out / "shop.xlsx"), "--out", str(tmp_path / "p.csv")]
    assert main([*predict, "--data", str(table)]) == 0  # the same rows: the sheet's own predictions
    want = [int(p > 0.5) for p in _preds_on_sheet(out / "shop.xlsx", "nnet")]
    assert pd.read_csv(tmp_path / "p.csv").y.tolist() == want
    plain = csv(tmp_path, frame.assign(cut=cut), "plain.csv")
    assert main([*predict, "--data", str(plain)]) == 2
    err = capsys.readouterr().err
    assert "column 'cut' holds plain numbers, where the book's table held percents (12% is 0.12)" in err


def test_a_table_saved_by_pandas_with_its_index_builds(capsys, tmp_path):
    """``df.to_csv(path)`` writes the row index first, under no name: a column numbering the rows."""
    path = tmp_path / "saved.csv"
    good(60).to_csv(path)  # index=True, pandas' default
    assert path.read_text().startswith(",x,colour,y\n0,")
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(tmp_path / "o"), "-q"]) == 0
    said = capsys.readouterr().out
    assert "named as pandas names them: 1 as 'Unnamed: 0'" in said
    assert "left out 'Unnamed: 0': an identifier" in said and "x_N" in said


def test_predict_writes_a_text_targets_own_values(capsys, tmp_path):
    frame = good(60).assign(y=lambda f: np.where(f.y == 1, "yes", "no"))
    path = csv(tmp_path, frame)
    out = tmp_path / "out"
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(out), "-q"]) == 0
    preds = tmp_path / "preds.csv"
    assert (
        main(["predict", "--params", str(out / "table.xlsx"), "--data", str(path), "--out", str(preds)]) == 0
    )
    said = capsys.readouterr().out
    got = pd.read_csv(preds)
    # 'no' -> 0 and 'yes' -> 1 (alphabetical): the nnet sheet's own predictions, as its levels
    want = ["yes" if p > 0.5 else "no" for p in _preds_on_sheet(out / "table.xlsx", "nnet")]
    assert list(got.y) == want
    assert f"{want.count('yes')} predicted 'yes' (the sheet's 1)" in said


def test_check_recomputes_a_tables_workbook(capsys, tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=50), "kind": rng.choice(["a", "b", "c"], 50)})
    frame["price"] = 1000 * (frame.x + (frame.kind == "a")) + rng.normal(0, 100, 50)
    path = csv(tmp_path, frame)
    out = tmp_path / "out"
    assert main(["build", "--data", str(path), "--target", "price", "--out", str(out), "-q"]) == 0
    capsys.readouterr()
    assert main(["check", str(out / "table.xlsx")]) == 0
    report = capsys.readouterr().out
    lines = report.splitlines()
    assert "rmse (Python)" in lines[1] and sum(line.endswith("agree") for line in lines) == 9  # 3 sheets x 3
    linear = next(line.split() for line in lines if line.startswith("linear"))
    # Python's own numbers, by hand: least squares on the train rows, scored on all 50 rows
    prep = wb.tabular.prepare(wb.tabular.read_table(path), "price")
    x, y = prep.X, prep.y
    w = np.linalg.lstsq(x[~prep.valid], y[~prep.valid], rcond=None)[0]
    assert float(linear[2]) == pytest.approx(np.mean((x @ w - y) ** 2), rel=1e-9)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_check_follows_a_learners_own_parameters_in_a_tables_workbook(capsys, tmp_path):
    path = csv(tmp_path, good(60))
    out = tmp_path / "out"
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(out), "-q"]) == 0
    book = openpyxl.load_workbook(out / "table.xlsx")
    ws = book["linear"]
    block = ws[ws.defined_names["solver_adj"].attr_text.split("!")[1]][0]  # the yellow cells
    # typed by the learner; not round, so that no prediction lands on 0.5 exactly, where the order
    # of a sum decides which side rounding falls on
    mine = [0.137 * (j + 1) - 0.21 for j in range(len(block))]
    for cell, v in zip(block, mine, strict=True):
        cell.value = v
    book.save(out / "mine.xlsx")  # openpyxl keeps no calculated value: LibreOffice recomputes them
    capsys.readouterr()
    assert main(["check", str(out / "mine.xlsx"), "--recalc"]) == 0
    report = capsys.readouterr().out
    linear = next(line.split() for line in report.splitlines() if line.startswith("linear"))
    prep = wb.tabular.prepare(wb.tabular.read_table(path), "y")
    assert float(linear[2]) == pytest.approx(np.mean((prep.X @ np.array(mine) - prep.y) ** 2), rel=1e-12)
    assert linear[3] == "-" and float(linear[4]) == pytest.approx(float(linear[2]), rel=1e-9)


def usage_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1, err
    return err


def test_a_column_named_like_an_option_is_given_with_an_equals_sign(capsys, tmp_path):
    path = csv(tmp_path, good().rename(columns={"y": "--drop"}))
    argv = ["build", "--data", str(path), "--target", "--drop", "--out", str(tmp_path / "o"), "-q"]
    err = usage_error(capsys, argv)
    assert "argument --target: expected one argument" in err, err
    assert "a value that starts with '-' is written with '=': --target=--drop" in err
    assert "--drop=-x" in usage_error(capsys, ["build", "--data", str(path), "--drop", "-x", "--target", "y"])
    argv[3:5] = ["--target=--drop"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("target '--drop': two values")
    book = openpyxl.load_workbook(tmp_path / "o" / "table.xlsx")
    assert any(c.value == "--drop" for row in book["linear"].iter_rows(max_row=40) for c in row)


def test_text_the_terminal_cannot_encode_is_escaped_not_a_crash(tmp_path, monkeypatch):
    import io
    import sys

    path = csv(tmp_path, good().rename(columns={"colour": "côté \u03c3"}))
    out, err = (io.TextIOWrapper(io.BytesIO(), encoding="ascii") for _ in range(2))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)  # as PYTHONIOENCODING=ascii makes them
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(tmp_path / "o"), "-q"]) == 0
    assert main(["build", "--data", str(path), "--target", "côté \u03c3", "--out", str(tmp_path / "o")]) == 2
    out.flush(), err.flush()
    printed, said = (s.buffer.getvalue().decode("ascii") for s in (out, err))
    assert "c\\xf4t\\xe9 \\u03c3" in printed  # the header, as escapes
    assert said.startswith("workbench: error: ") and "c\\xf4t\\xe9 \\u03c3" in said, said


def test_a_name_of_255_characters_is_written(capsys, tmp_path):
    path = csv(tmp_path, good(), "a" * 246 + ".csv")
    assert main(["build", "--data", str(path), "--target", "y", "--out", str(tmp_path / "o"), "-q"]) == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["a" * 246 + ".xlsx"]
    long = csv(tmp_path, good(), "b" * 251 + ".csv")  # its workbook's name would be 256: too long
    refused(capsys, tmp_path, ["build", "--data", str(long), "--target", "y"], "File name too long")


def sheet_texts(path) -> dict[str, list[str]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {
        ws.title: [str(v) for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
        for ws in book.worksheets
        if ws.sheet_state == "visible"
    }


def test_a_random_sample_of_the_rows_builds_the_book_and_every_sheet_says_so(capsys, tmp_path):
    frame = good(400, seed=5)
    path = csv(tmp_path, frame, "big.csv")
    out = tmp_path / "o"
    argv = ["build", "--data", str(path), "--target", "y", "--sample", "120", "--seed", "3"]
    assert main([*argv, "--out", str(out)]) == 0
    said = "a random sample of 120 of the file's 400 rows, drawn with seed 3"
    assert said in capsys.readouterr().out  # the report
    texts = sheet_texts(out / "big.xlsx")
    assert set(texts) >= {"features", "linear", "nnet", "mmult", "sigmoid", "descent", "summary", "notes"}
    for sheet, strings in texts.items():
        assert any(said in s for s in strings), sheet
    # the rows: numpy's generator with the seed, sorted into file order, as the option documents
    rows = np.sort(np.random.default_rng(3).choice(400, size=120, replace=False))
    linear = openpyxl.load_workbook(out / "big.xlsx", read_only=True)["linear"]
    values = [r for r in linear.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(values) if "x" in r and "Set" in r)
    x_col = values[head].index("x")
    np.testing.assert_allclose(
        [r[x_col] for r in values[head + 1 : head + 121]], frame.x.to_numpy()[rows], rtol=1e-15
    )
    assert len(values) == head + 121 or values[head + 121][x_col] is None  # 120 rows, no more
    assert main(["check", str(out / "big.xlsx")]) == 0


@pytest.mark.parametrize("value", ["0", "-3", "401"])
def test_a_sample_of_no_rows_or_more_than_the_file_has_is_refused(capsys, tmp_path, value):
    path = csv(tmp_path, good(400))
    argv = ["build", "--data", str(path), "--target", "y", "--sample", value]
    refused(capsys, tmp_path, argv, "--sample takes a whole number of rows from 1 to the file's 400")


def test_a_sample_is_for_a_table_of_ones_own(capsys, tmp_path):
    refused(capsys, tmp_path, ["build", "--sample", "100"], "--sample is for a table of your own")


@pytest.mark.slow
def test_a_table_beyond_a_sheet_is_refused_naming_the_sample_that_fits(capsys, tmp_path):
    n = 1_048_600  # more than the linear sheet holds below its headings
    rng = np.random.default_rng(1)
    x = rng.normal(size=n).round(3)
    path = csv(tmp_path, pd.DataFrame({"x": x, "y": (x + rng.normal(size=n) > 0).astype(int)}))
    argv = ["build", "--data", str(path), "--target", "y"]
    err = refused(
        capsys, tmp_path, argv, "1,048,600 rows kept", "an Excel sheet holds at most 1,048,576 rows"
    )
    most = int(err.rsplit("--sample ", 1)[1])
    assert 1_048_500 < most < 1_048_576 and f"write at most {most:,} data rows" in err
    out = tmp_path / "o"
    assert main([*argv, "--sample", "500", "--out", str(out), "-q"]) == 0
    assert any("500 of the file's 1,048,600 rows" in s for s in sheet_texts(out / "table.xlsx")["linear"])


def test_a_misspelt_column_is_met_with_the_name_it_likely_meant(capsys, tmp_path):
    path = csv(tmp_path, good())
    err = refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "Y"], "the columns are")
    assert err.rstrip().endswith("'x', 'colour', 'y': did you mean 'y'?")
    err = refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "y", "--drop", "color"])
    assert err.rstrip().endswith(
        "--drop names 'color', which is not a column of the table; did you mean 'colour'?"
    )
    err = refused(capsys, tmp_path, ["build", "--data", str(path), "--target", "weight"])
    assert "did you mean" not in err  # nothing close: no guess


def test_predict_writes_the_identifier_the_recipe_left_out_as_kaggle_wants_it(capsys, tmp_path):
    """Kaggle's Titanic by the any-table recipe: PassengerId left out as an identifier, then written
    beside each of test.csv's predictions, whose Age and Fare gaps the --missing fill book fills."""
    out = tmp_path / "out"
    argv = ["build", "--data", str(wb.TRAIN_CSV), "--target", "Survived", "--missing", "fill", "-q"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "left out 'PassengerId': an identifier" in capsys.readouterr().out
    sub = tmp_path / "submission.csv"
    argv = ["predict", "--params", str(out / "train.xlsx"), "--data", str(wb.TEST_CSV), "--out", str(sub)]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "86 rows have no Age: filled with the median" in said and "1 row has no Fare" in said
    got, theirs = pd.read_csv(sub), pd.read_csv(wb.TEST_CSV)
    assert list(got.columns) == ["PassengerId", "Survived"] and len(got) == 418
    assert got.PassengerId.tolist() == theirs.PassengerId.tolist() and set(got.Survived) <= {0, 1}
    assert sub.read_text().splitlines()[1] == f"892,{got.Survived[0]}"  # whole numbers, as Kaggle's


@pytest.mark.parametrize("noise", [0.1, 30.0])
def test_the_report_says_which_sheets_clear_the_bar(capsys, tmp_path, noise):
    """The bar: the train rows' mean for every valid row. Which sheets' valid RMSE is below it is
    computed here from the table alone and each sheet's reported RMSE."""
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"x": rng.normal(size=60), "z": rng.normal(size=60)})
    frame["y"] = frame.x + 0.3 * frame.z**2 + rng.normal(0, noise, 60)
    assert (
        main(
            [
                "build",
                "--data",
                str(csv(tmp_path, frame)),
                "--target",
                "y",
                "--out",
                str(tmp_path / "o"),
                "-q",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    valid = valid_mask(60)
    bar = np.sqrt(np.mean((frame.y[valid] - frame.y[~valid].mean()) ** 2))
    rmse = {
        m[1]: float(m[2]) for m in re.finditer(r"\n(\w+): [^\n]*; valid loss [^,]+, rmse ([\d.e+-]+)", out)
    }
    assert set(rmse) == {"linear", "nnet"}
    yes, no = [s for s in rmse if rmse[s] < bar], [s for s in rmse if rmse[s] >= bar]
    if yes and no:
        want = f"On the valid rows {', '.join(yes)} clears the bar; {', '.join(no)} does not."
    else:
        want = f"On the valid rows {'every' if yes else 'no'} sheet clears the bar."
    assert want in out
    assert (noise < 1) == ("every sheet clears" in out)  # little noise: both learn; much: at least one not


def test_a_table_of_ones_own_without_target_is_told_how_to_build(capsys, tmp_path):
    path = csv(tmp_path, good())
    err = refused(capsys, tmp_path, ["build", "--data", str(path)], "missing column 'PassengerId'")
    assert err.rstrip().endswith("(found: x, colour, y); a table of your own is built with --target COLUMN")
