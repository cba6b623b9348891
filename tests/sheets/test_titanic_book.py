"""The Titanic workbook: layout, formulas, cached values, Solver names, safety, determinism.

Most tests use a small book (the lesson's features of the first 80 passengers), which
writes in a fraction of a second; the full-size layout is checked under ``--slow``.
Expected formulas are spelled out here by hand and expected numbers are computed with
plain numpy, never with the writer's own code.
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import torch
from openpyxl.worksheet.formula import ArrayFormula
from plain_words import JARGON, clipped_headings, jargon
from small_book import INPUTS, Book, rounded, write_book

import workbench as wb
import workbench.sheets.write.style
import workbench.sheets.write.xlsx
from workbench.errors import DataError, WorkbenchError, WorkbookError
from workbench.sheets.books.titanic import Fitted, write_titanic_book
from workbench.sheets.read.read_book import read_params
from workbench.titanic.data import TRAIN_CSV
from workbench.titanic.split import valid_below_train


def notes_of(small, sheet: str) -> str:
    """The words the notes sheet holds for ``sheet`` (under its heading, to the next heading)."""
    rows = [r[0] for r in small.values["notes"].iter_rows(min_row=3, values_only=True) if r[0]]
    at = rows.index(sheet)
    following = [i for i, r in enumerate(rows) if i > at and r in SHEETS]
    return " ".join(rows[at + 1 : following[0] if following else None])


def test_no_more_than_about_60_words_of_notes_above_the_passengers(small):
    """The lesson's own sheets had none: a model sheet keeps its own line and a pointer to the rest."""
    for sheet in ("linear", "nnet", "mmult", "sigmoid"):
        ws = small.formulas[sheet]
        notes = [ws.cell(r, 1).value for r in range(2, 4)]
        assert sum(len(str(n).split()) for n in notes) <= 60, sheet
        assert "the notes sheet" in notes[1] and notes_of(small, sheet)  # the rest is there, not lost
        texts = [c.value for row in ws.iter_rows(min_row=4, max_row=small.layout(sheet)["header"] - 1)
                 for c in row if isinstance(c.value, str)]  # fmt: skip
        assert not [t for t in texts if len(t.split()) > 8 and not t.startswith("MMULT in small")], sheet


def test_the_lessons_cells_come_first_and_few_rows_stand_above_the_passengers(small):
    """The lesson's nnet sheet had two parameter rows and one loss; ours: the yellow parameters on
    top, a grey start, a grey copy of the fitted values and a new start below them (8 rows on
    nnet, 4 on linear), Total loss first and in the largest font, beside the first parameter row."""
    for sheet, units in {"linear": 1, "nnet": 2, "sigmoid": 1}.items():
        ws = small.formulas[sheet]
        above = [c for row in ws.iter_rows(max_row=small.layout(sheet)["header"] - 1) for c in row]
        labels = [c.value for c in above if c.column == 6 and str(c.value).endswith(":")]
        blocks = ["Params", "Start", "Fitted", "New start"]
        want = [f"{b}:" for b in blocks] if units == 1 else [f"{b} {k}:" for b in blocks for k in (1, 2)]
        assert labels == want and len(want) <= 8, sheet
        top = small.labelled(sheet, labels[0])[0]
        losses = [small.labelled(sheet, f"{s} loss:") for s in ("Total", "Train", "Valid")]
        assert [r for r, _ in losses] == [top, top + 1, top + 2], sheet
        assert not any(str(c.value).startswith("Sum of") for c in above)
        total = ws.cell(top, losses[0][1] + 1)
        sizes = {c.font.sz for row in ws.iter_rows(min_row=top, max_row=top + 2 * units + 2) for c in row}
        assert total.font.sz == max(sizes) > ws.cell(top + 1, losses[1][1] + 1).font.sz, sheet
        assert small.layout(sheet)["header"] <= 7 + len(want), sheet  # title, 2 notes, blank, header
        # the lessons' words, in the comments of the labels they explain
        valid, metric = (
            ws.cell(*small.labelled(sheet, label)).comment for label in ("Valid loss:", "Accuracy:")
        )
        assert "the validation set" in valid.text and "column Set" in valid.text, sheet
        assert metric.text.startswith("The metric:") and "loss" in metric.text, sheet
    lessons = {c.value for row in small.formulas["nnet"].iter_rows(max_row=20) for c in row if c.value}
    assert not {"Parameters:", "In use 1:", "Mine 1:", "Sum of losses:"} & lessons  # no switch left


SHEETS = ["all_rows", "features", "linear", "nnet", "mmult", "sigmoid", "summary", "notes"]
RAW = ["Survived", "Embarked", "Pclass", "Sex", "Age", "Fare", "SibSp", "Parch"]
DERIVED = ["Age_N", "log_Fare", "Pclass_1", "Pclass_2", "Embark_S", "Embark_C", "Male", "Ones"]
MODEL_COLUMNS = {
    "linear": ["Preds", "Loss", "Set"],
    "nnet": ["Lin1", "Lin2", "ReLU1", "ReLU2", "Preds", "Loss", "Set"],
    "mmult": ["Lin1", "Lin2", "ReLU1", "ReLU2", "Preds", "Loss", "Set"],
    "sigmoid": ["Lin", "Preds", "Loss", "Set"],
}
# Solver's names as Excel saved them in the lesson's own workbook (tests/fixtures/README.md says where from).
EXCEL_NAMES = [
    dict(re.findall(r'(\w+)="([^"]*)"', attrs)) | {"value": text}
    for attrs, text in re.findall(
        r"<definedName ([^>]*)>([^<]*)</definedName>",
        (Path(__file__).parent.parent / "fixtures" / "excel_solver_names.xml").read_text(),
    )
]
SOLVER = {n["name"]: n["value"] for n in EXCEL_NAMES if n["localSheetId"] == "2"}  # the linear sheet's
for _cell in ("solver_opt", "solver_adj"):  # cell references: ours sit elsewhere
    del SOLVER[_cell]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Book:
    return write_book(tmp_path_factory.mktemp("small") / "titanic.xlsx", wb.load_titanic().head(80))


def numpy_predictions(table: pd.DataFrame, fits) -> dict[str, np.ndarray]:
    """Each sheet's predictions by hand, from the parameters as the cells hold them."""
    x = table[INPUTS].to_numpy(dtype=float)
    w_nnet = rounded(fits["nnet"].params)
    return {
        "linear": x @ rounded(fits["linear"].params),
        "nnet": np.maximum(x @ w_nnet[0], 0) + np.maximum(x @ w_nnet[1], 0),
        "mmult": np.maximum(x @ w_nnet.T, 0).sum(1),
        "sigmoid": 1 / (1 + np.exp(-(x @ rounded(fits["sigmoid"].params)))),
    }


# --- layout -------------------------------------------------------------------------------------


def test_sheets_in_the_lesson_order(small):
    assert small.formulas.sheetnames == SHEETS


def test_every_sheet_starts_with_a_title_and_a_note(small):
    for sheet in SHEETS:
        ws = small.formulas[sheet]
        assert ws["A1"].value.startswith(f"{sheet}: ")
        assert len(ws["A2"].value) > 40


def test_all_rows_holds_every_passenger_as_in_the_csv(small):
    ws, raw = small.formulas["all_rows"], small.passengers
    columns = [
        "PassengerId",
        "Name",
        "Survived",
        "Pclass",
        "Sex",
        "Age",
        "SibSp",
        "Parch",
        "Fare",
        "Embarked",
    ]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "PassengerId")
    assert [c.value for c in ws[header]] == columns
    rows = list(ws.iter_rows(min_row=header + 1, values_only=True))
    assert len(rows) == len(raw) == 80
    for got, (_, want) in zip(rows, raw[columns].iterrows(), strict=True):
        assert list(got) == [None if pd.isna(v) else v for v in want]
    assert ws.auto_filter.ref == f"A{header}:J{header + 80}"
    assert ws.freeze_panes == f"A{header + 1}"
    assert sum(r[columns.index("Age")] is None for r in rows) == raw["Age"].isna().sum() > 0


def test_model_sheets_have_the_lessons_columns(small):
    for sheet, extra in MODEL_COLUMNS.items():
        ws, rows = small.formulas[sheet], small.layout(sheet)
        header = [c.value for c in ws[rows["header"]]]
        assert header[: header.index("Set") + 1] == RAW + DERIVED + extra
        assert not any(header[header.index("Set") + 1 :])  # beyond Set: only the accuracies' column above
        assert ws.freeze_panes == f"A{rows['first']}"
        kept = int((small.passengers["Age"].notna() & small.passengers["Embarked"].notna()).sum())
        assert ws.max_row == rows["last"] == rows["header"] + kept


def test_raw_columns_are_values_and_derived_columns_are_the_lessons_formulas(small):
    for sheet in MODEL_COLUMNS:
        ws, rows = small.formulas[sheet], small.layout(sheet)
        mx_row, mx_col = small.labelled(sheet, "Max:")
        max_cell = f"$E${mx_row}"
        assert mx_col == 4  # "Max:" sits left of the Age column's maximum
        assert ws[f"E{mx_row}"].value == f"=MAX(E{rows['first']}:E{rows['last']})"
        for i, r in enumerate(range(rows["first"], rows["last"] + 1)):
            raw = [ws.cell(r, j).value for j in range(1, 9)]
            want = small.table.iloc[i][RAW].tolist()
            assert raw == want
            assert [ws.cell(r, j).value for j in range(9, 17)] == [
                f"=E{r}/{max_cell}",
                f"=LOG10(F{r}+1)",
                f"=IF(C{r}=1,1,0)",
                f"=IF(C{r}=2,1,0)",
                f'=IF(B{r}="S",1,0)',
                f'=IF(B{r}="C",1,0)',
                f'=IF(D{r}="male",1,0)',
                1,
            ]


def test_model_formulas(small):
    rows = {s: small.layout(s) for s in MODEL_COLUMNS}
    for sheet in ("linear", "nnet", "sigmoid"):
        ws, first, last = small.formulas[sheet], rows[sheet]["first"], rows[sheet]["last"]
        labels = ["Params:"] if sheet != "nnet" else ["Params 1:", "Params 2:"]
        fitted = [small.labelled(sheet, label)[0] for label in labels]  # the yellow rows
        for r in (first, first + 1, last):
            if sheet == "linear":
                assert ws[f"Q{r}"].value == f"=SUMPRODUCT(G{r}:P{r},$G${fitted[0]}:$P${fitted[0]})"
                assert ws[f"R{r}"].value == f"=(Q{r}-A{r})^2"
            elif sheet == "sigmoid":
                assert ws[f"Q{r}"].value == f"=SUMPRODUCT(G{r}:P{r},$G${fitted[0]}:$P${fitted[0]})"
                assert ws[f"R{r}"].value == f"=1/(1+EXP(-Q{r}))"
                assert ws[f"S{r}"].value == f"=(R{r}-A{r})^2"
            else:
                assert [ws[f"{c}{r}"].value for c in "QRSTUV"] == [
                    f"=SUMPRODUCT(G{r}:P{r},$G${fitted[0]}:$P${fitted[0]})",
                    f"=SUMPRODUCT(G{r}:P{r},$G${fitted[1]}:$P${fitted[1]})",
                    f"=IF(Q{r}<0,0,Q{r})",
                    f"=IF(R{r}<0,0,R{r})",
                    f"=S{r}+T{r}",
                    f"=(U{r}-A{r})^2",
                ]


def test_mmult_is_one_array_formula_over_every_row(small):
    ws, rows = small.formulas["mmult"], small.layout("mmult")
    first, last = rows["first"], rows["last"]
    block_top = small.labelled("mmult", "SibSp")[0]
    array = ws[f"Q{first}"].value
    assert isinstance(array, ArrayFormula)
    assert array.ref == f"Q{first}:R{last}"
    assert [ws.cell(block_top - 1, c).value for c in (7, 8)] == ["Param1", "Param2"]  # G, H: yellow
    assert array.text == f"=MMULT(G{first}:P{last},$G${block_top}:$H${block_top + 9})"
    formulas = [c.value for row in ws[f"Q{first}:R{last}"] for c in row]
    assert sum(isinstance(v, (ArrayFormula, str)) for v in formulas) == 1  # the rest are its values
    # the 10 x 2 block holds nnet's two parameter rows as columns, labelled by input
    block = [[c.value for c in row] for row in ws[f"F{block_top}:H{block_top + 9}"]]
    assert [r[0] for r in block] == [*INPUTS[:-1], "Const"]
    np.testing.assert_array_equal(np.array([r[1:] for r in block]), rounded(small.fits["nnet"].params).T)


def test_mmult_teaching_example(small):
    ws = small.formulas["mmult"]
    r, c = small.labelled("mmult", "MMULT(Data, Coefs)")
    array = ws.cell(r + 1, c).value
    assert isinstance(array, ArrayFormula) and array.text.startswith("=MMULT(")
    cached = [[small.values["mmult"].cell(r + 1 + i, c + j).value for j in range(2)] for i in range(3)]
    assert cached == [[15, 27], [7, 15], [23, 39]]  # the lesson's worked example


def test_cached_values_are_pythons_numbers(small):
    t = small.table
    np.testing.assert_allclose(small.cached("linear", "Age_N"), t["Age"] / t["Age"].max(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(small.cached("nnet", "log_Fare"), np.log10(t["Fare"] + 1), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(small.cached("mmult", "Male"), (t["Sex"] == "male").astype(float))
    y = t["Survived"].to_numpy(dtype=float)
    for sheet, preds in numpy_predictions(t, small.fits).items():
        np.testing.assert_allclose(small.cached(sheet, "Preds"), preds, rtol=0, atol=1e-12)
        np.testing.assert_allclose(small.cached(sheet, "Loss"), (preds - y) ** 2, rtol=0, atol=1e-12)
        r, c = small.labelled(sheet, "Total loss:")
        assert small.values[sheet].cell(r, c + 1).value == pytest.approx(np.mean((preds - y) ** 2), abs=1e-12)
        assert small.formulas[sheet].cell(r, c + 1).value.startswith("=AVERAGE(")
        r, c = small.labelled(sheet, "Accuracy:")
        assert small.values[sheet].cell(r, c + 1).value == np.mean((preds > 0.5) == (y == 1))
        assert small.formulas[sheet].cell(r, c + 1).value.startswith("=SUMPRODUCT(((")


def test_nnet_and_mmult_cache_the_same_numbers(small):
    for name in ("Lin1", "Lin2", "ReLU1", "ReLU2", "Preds", "Loss"):
        # the same sums, added in another order by torch: equal to the last bit or two
        np.testing.assert_allclose(
            small.cached("nnet", name), small.cached("mmult", name), rtol=0, atol=1e-15
        )
    lin = np.stack([small.cached("nnet", "Lin1"), small.cached("nnet", "Lin2")])
    assert (lin < 0).any() and (lin > 0).any()  # the ReLUs are not all on or all off


def test_parameters_and_random_starts_sit_in_labelled_rows(small):
    one = ["Params:", "Start:", "Fitted:"]
    two = ["Params 1:", "Params 2:", "Start 1:", "Start 2:", "Fitted 1:", "Fitted 2:"]
    for sheet, labels in {"linear": one, "sigmoid": one, "nnet": two}.items():
        ws = small.values[sheet]
        got = []
        for label in labels:
            r, c = small.labelled(sheet, label)
            assert c == 6  # F, left of the inputs' columns G:P
            got.append([ws.cell(r, j).value for j in range(7, 17)])
        header = small.labelled(sheet, "Const")[0]
        assert [ws.cell(header, j).value for j in range(7, 17)] == [*INPUTS[:-1], "Const"]
        fit = small.fits[sheet]
        params, start = np.reshape(rounded(fit.params), (-1, 10)), np.reshape(rounded(fit.start), (-1, 10))
        want = np.concatenate([params, start, params])
        np.testing.assert_array_equal(np.array(got), want)


def test_summary_reads_the_model_sheets_live(small):
    ws, values = small.formulas["summary"], small.values["summary"]
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Sheet")
    for i, sheet in enumerate(MODEL_COLUMNS):
        r = header + 1 + i
        assert ws.cell(r, 1).value == sheet
        labels = [
            "Train loss:",
            "Valid loss:",
            "Total loss:",
            "Train accuracy:",
            "Valid accuracy:",
            "Accuracy:",
        ]
        heads = ["Train loss", "Valid loss", "Total loss (all rows)", "Train accuracy", "Valid accuracy"]
        assert [ws.cell(header, j).value for j in range(3, 9)] == [*heads, "Accuracy (all rows)"]
        for j, label in enumerate(labels, start=3):
            lr, lc = small.labelled(sheet, label)
            assert ws.cell(r, j).value == f"={sheet}!${openpyxl.utils.get_column_letter(lc + 1)}${lr}"
            assert values.cell(r, j).value == small.values[sheet].cell(lr, lc + 1).value
    gap = ws.cell(header + 5, 3).value
    assert isinstance(gap, ArrayFormula) and gap.text.startswith("=MAX(ABS(nnet!")
    assert values.cell(header + 5, 3).value <= 1e-15  # the same sums in another order


def test_summary_chart_draws_every_history(small):
    with zipfile.ZipFile(small.path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        charts = [c for c in charts if "against" not in z.read(c).decode()]  # not the features sheet's two
        assert len(charts) == 1
        chart = z.read(charts[0]).decode()
    assert chart.count("<c:ser>") == len(small.histories) == 3
    assert '<c:logBase val="10"/>' in chart
    ws = small.values["summary"]
    r = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "step")
    for j, (name, losses) in enumerate(small.histories.items(), start=2):
        assert ws.cell(r, j).value == name
        got = [ws.cell(r + 1 + e, j).value for e in range(len(losses))]
        np.testing.assert_array_equal(got, rounded(losses))


def test_summary_comparison_table_is_written_as_given(tmp_path, small):
    comparison = pd.DataFrame(
        {"model": ["linear", "nnet"], "method": ["lstsq", "gd"], "loss": [0.1442271493073191, 0.2],
         "accuracy": [0.79, np.nan], "epochs": [0, 30]}
    )  # fmt: skip
    path = tmp_path / "t.xlsx"
    write_titanic_book(path, small.passengers, small.table, small.fits, comparison=comparison)
    ws = openpyxl.load_workbook(path)["summary"]
    r = next(r for r in range(1, 40) if ws.cell(r, 1).value == "model")
    assert [ws.cell(r, j).value for j in range(1, 6)] == list(comparison.columns)
    # a method by its plain name, the technical one in the cell's note
    assert [ws.cell(r + 1, j).value for j in range(1, 6)] == [
        "linear",
        "least squares",
        0.1442271493073191,
        0.79,
        0,
    ]
    assert ws.cell(r + 2, 2).value == "gradient descent" and ws.cell(r + 1, 2).comment.text.startswith(
        "lstsq:"
    )
    assert ws.cell(r + 2, 4).value is None  # NaN stays blank
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2 and all("against" in c for c in charts)  # the features sheet's: no histories


# --- Solver ---------------------------------------------------------------------------------------


def defined_names(path) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/workbook.xml").decode()
    names = []
    for attrs, text in re.findall(r"<definedName ([^>]*)>([^<]*)</definedName>", xml):
        names.append(dict(re.findall(r'(\w+)="([^"]*)"', attrs)) | {"value": text})
    return names


def test_solver_model_is_stored_as_hidden_sheet_names(small):
    names = defined_names(small.path)
    for index, sheet in enumerate(SHEETS):
        solver = {
            n["name"]: n for n in names if n.get("localSheetId") == str(index) and "solver" in n["name"]
        }
        if sheet not in MODEL_COLUMNS:
            assert not solver
            continue
        assert all(n.get("hidden") == "1" for n in solver.values())
        assert {k: solver[k]["value"] for k in SOLVER} == SOLVER
        assert set(solver) == {*SOLVER, "solver_opt", "solver_adj"}
        # the objective is the train loss; the changing cells are the fitted parameters
        r, c = small.labelled(sheet, "Train loss:")
        assert solver["solver_opt"]["value"] == f"{sheet}!${openpyxl.utils.get_column_letter(c + 1)}${r}"
        ws = small.values[sheet]
        cells = ws[solver["solver_adj"]["value"].split("!")[1].replace("$", "")]
        got = np.array([[c.value for c in row] for row in cells])
        params = (
            rounded(small.fits["nnet"].params).T if sheet == "mmult" else rounded(small.fits[sheet].params)
        )
        np.testing.assert_array_equal(got.reshape(params.shape), params)


def test_solver_names_are_excels_27_in_excels_order(small):
    assert len(SOLVER) == 25 and SOLVER["solver_mrt"] == "0.075" and SOLVER["solver_rsd"] == "0"
    sheet_of = {str(i): s for i, s in enumerate(SHEETS)}
    excel_sheets = {"0": "mmult", "1": "nnet", "2": "linear"}
    excel = [(n["name"], excel_sheets[n["localSheetId"]]) for n in EXCEL_NAMES]
    ours = [
        (n["name"], sheet_of[n["localSheetId"]])
        for n in defined_names(small.path)
        if n["name"].startswith("solver_") and sheet_of[n["localSheetId"]] in excel_sheets.values()
    ]
    assert len(excel) == 81 and ours == excel  # by name, then by sheet, as Excel saved them
    for sheet in ("linear", "nnet", "mmult"):
        mine = [
            (n["name"], n["value"]) for n in defined_names(small.path) if sheet_of[n["localSheetId"]] == sheet
        ]
        theirs = [(n["name"], n["value"]) for n in EXCEL_NAMES if excel_sheets[n["localSheetId"]] == sheet]
        solver_mine = [(k, v) for k, v in mine if k.startswith("solver_")]
        assert [k for k, _ in solver_mine] == [k for k, _ in theirs]
        assert [(k, v) for k, v in solver_mine if k not in ("solver_opt", "solver_adj")] == [
            (k, v) for k, v in theirs if k not in ("solver_opt", "solver_adj")
        ]


# --- safety ---------------------------------------------------------------------------------------

FORMULA_LIKE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1:A2)", "=1/0"]


def crafted_csv(tmp_path, column: str, values: list[str]) -> str:
    with open(TRAIN_CSV, newline="") as f:
        rows = list(csv.reader(f))[:41]
    j = rows[0].index(column)
    for i, value in enumerate(values, start=1):
        rows[i][j] = value
    path = tmp_path / "crafted.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return str(path)


def test_a_formula_looking_name_is_written_as_text(tmp_path):
    passengers = wb.load_titanic(crafted_csv(tmp_path, "Name", FORMULA_LIKE))
    book = write_book(tmp_path / "t.xlsx", passengers)
    ws = book.formulas["all_rows"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "PassengerId")
    for i, text in enumerate(FORMULA_LIKE, start=1):
        cell = ws.cell(header + i, 2)
        assert cell.value == text and cell.data_type == "s"
    with zipfile.ZipFile(book.path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "HYPERLINK" not in sheet  # in shared strings, never in a <f> formula
    assert "<f>" not in sheet


@pytest.mark.parametrize("column", ["Sex", "Embarked"])
def test_a_formula_looking_sex_or_embarked_is_refused_before_any_file(tmp_path, column):
    path = tmp_path / "t.xlsx"
    with pytest.raises(DataError, match=column) as e:
        write_book(path, wb.load_titanic(crafted_csv(tmp_path, column, ['=HYPERLINK("http://x","y")'])))
    assert e.value.row == 1
    assert not path.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "crafted.csv"]


# --- whole, deterministic, within Excel's limits --------------------------------------------------


def test_the_same_inputs_give_the_same_bytes(tmp_path, small):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    luck = valid_below_train(small.table)
    for path in (a, b):
        write_titanic_book(
            path, small.passengers, small.table, small.fits, histories=small.histories, luck=luck
        )
    assert a.read_bytes() == b.read_bytes() == small.path.read_bytes()


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, small):
    path = tmp_path / "titanic.xlsx"
    path.write_bytes(b"old workbook")

    def broken_sheet(book):
        book.add_worksheet("descent")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_titanic_book(path, small.passengers, small.table, small.fits, extra_sheets=[broken_sheet])
    assert path.read_bytes() == b"old workbook"
    assert list(tmp_path.iterdir()) == [path]


def test_extra_sheets_go_between_the_models_and_the_summary(tmp_path, small):
    def descent(book):
        book.add_worksheet("descent").write_string(0, 0, "descent: the sheet trains itself")

    path = write_titanic_book(
        tmp_path / "t.xlsx", small.passengers, small.table, small.fits, extra_sheets=[descent]
    )
    assert openpyxl.load_workbook(path, read_only=True).sheetnames == [
        *SHEETS[:-2],
        "descent",
        "summary",
        "notes",
    ]


def test_constant_memory_writes_the_same_cells(tmp_path, small):
    path = tmp_path / "streamed.xlsx"
    write_titanic_book(path, small.passengers, small.table, small.fits, histories=small.histories,
                       luck=valid_below_train(small.table), constant_memory=True)  # fmt: skip
    for data_only, reference in ((False, small.formulas), (True, small.values)):
        streamed = openpyxl.load_workbook(path, data_only=data_only)
        for sheet in SHEETS:
            want = [[_plain(c.value) for c in row] for row in reference[sheet].iter_rows()]
            got = [[_plain(c.value) for c in row] for row in streamed[sheet].iter_rows()]
            assert got == want, sheet
    assert defined_names(path) == defined_names(small.path)


def _plain(value):
    return ("array", value.ref, value.text) if isinstance(value, ArrayFormula) else value


@pytest.mark.parametrize("constant_memory", [False, True])
def test_rows_written_in_blocks_give_the_same_bytes(tmp_path, small, monkeypatch, constant_memory):
    import workbench.sheets.write.grid as book

    def write(path):
        write_titanic_book(path, small.passengers, small.table, small.fits, histories=small.histories,
                           constant_memory=constant_memory)  # fmt: skip
        return path.read_bytes()

    whole = write(tmp_path / "whole.xlsx")
    monkeypatch.setattr(book, "BLOCK_ROWS", 7)  # 80 passengers, 60 rows: 7 + 7 + ...
    assert write(tmp_path / "blocks.xlsx") == whole


def test_more_rows_than_excel_holds_are_refused(tmp_path, small, monkeypatch):
    monkeypatch.setattr(workbench.sheets.write.xlsx, "MAX_ROWS", 60)
    path = tmp_path / "t.xlsx"
    with pytest.raises(WorkbenchError, match=r"at most 60 rows"):
        write_titanic_book(path, small.passengers, small.table, small.fits)
    assert list(tmp_path.iterdir()) == []


def test_a_too_tall_sheet_is_refused_before_any_sheet_is_written(tmp_path, small, monkeypatch):
    complete = small.passengers[small.passengers["PassengerId"].isin(small.table.index)]
    assert len(complete) == len(small.table) == 60
    written = []
    monkeypatch.setattr(
        workbench.sheets.write.xlsx.Workbook, "add_worksheet", lambda self, *a: written.append(a)
    )
    with pytest.raises(WorkbenchError, match=r"loss history 'bad'"):
        write_titanic_book(
            tmp_path / "t.xlsx", complete, small.table, small.fits, histories={"bad": [0.3, np.nan]}
        )
    # all_rows (60 rows below 5) and linear (60 below 11) fit in 74 rows; nnet (60 below 15) doesn't.
    monkeypatch.setattr(workbench.sheets.write.xlsx, "MAX_ROWS", 74)
    with pytest.raises(WorkbenchError, match=r"sheet 'nnet' needs 75 rows"):
        write_titanic_book(tmp_path / "t.xlsx", complete, small.table, small.fits)
    assert written == []
    assert list(tmp_path.iterdir()) == []


# --- bad inputs -----------------------------------------------------------------------------------


def test_bad_inputs_are_refused_with_a_clear_message(tmp_path, small):
    path, raw, table, fits = tmp_path / "t.xlsx", small.passengers, small.table, small.fits
    cases = [
        (
            (raw, table, {k: v for k, v in fits.items() if k != "sigmoid"}),
            "parameters for the sheet 'sigmoid'",
        ),
        (
            (raw, table, fits | {"nnet": Fitted(np.zeros(10))}),
            r"sheet 'nnet', fitted parameters: nnet needs .*\(2, 10\)",
        ),
        ((raw, table, fits | {"mmult": Fitted(np.zeros((10, 2)), np.zeros(3))}), "sheet 'mmult', starting"),
        ((raw, table, fits | {"tree": Fitted(np.zeros(10))}), "no model sheet is called 'tree'"),
        ((raw, wb.prediction_table(raw), fits), "'Age_N' is not"),
        ((raw, table.drop(columns="Male"), fits), "no column 'Male'"),
        ((raw.iloc[:10], table, fits), "PassengerId 11"),
    ]
    for args, message in cases:
        with pytest.raises(WorkbenchError, match=message):
            write_titanic_book(path, *args)
        assert not path.exists()


# --- read_params ----------------------------------------------------------------------------------


def test_read_params_returns_the_parameter_cells_in_the_models_shapes(small):
    params = read_params(small.path)
    assert list(params) == ["linear", "nnet", "mmult", "sigmoid"]
    for sheet in ("linear", "nnet", "sigmoid"):
        np.testing.assert_array_equal(params[sheet], rounded(small.fits[sheet].params))
        np.testing.assert_allclose(params[sheet], small.fits[sheet].params, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(params["mmult"], params["nnet"].T)


def edited(small, tmp_path, cell: str, value) -> str:
    """The small book with one cell of the linear sheet changed, as a user would in Excel."""
    book = openpyxl.load_workbook(small.path)
    book["linear"][cell] = value
    book.save(tmp_path / "edited.xlsx")
    return tmp_path / "edited.xlsx"


def test_read_params_reads_what_a_user_typed(small, tmp_path):
    r = small.labelled("linear", "Params:")[0]
    params = read_params(edited(small, tmp_path, f"H{r}", 0.5))
    want = rounded(small.fits["linear"].params)
    want[1] = 0.5
    np.testing.assert_array_equal(params["linear"], want)


@pytest.mark.parametrize("value, problem", [("abc", "holds 'abc'; expected a number"), (None, "is empty")])
def test_read_params_names_a_cell_that_is_not_a_number(small, tmp_path, value, problem):
    r = small.labelled("linear", "Params:")[0]
    with pytest.raises(WorkbookError, match=rf"parameter cell linear!G{r} {problem}"):
        read_params(edited(small, tmp_path, f"G{r}", value))


def test_read_params_refuses_what_is_not_our_workbook(tmp_path):
    with pytest.raises(WorkbookError, match="no such workbook"):
        read_params(tmp_path / "missing.xlsx")
    (tmp_path / "text.xlsx").write_text("Survived,Pclass\n1,3\n")
    with pytest.raises(WorkbookError, match=r"text\.xlsx: is not an \.xlsx workbook"):
        read_params(tmp_path / "text.xlsx")
    other = openpyxl.Workbook()
    other.save(tmp_path / "other.xlsx")
    with pytest.raises(
        WorkbookError, match=r"other\.xlsx: is not a workbench Titanic workbook: it has no sheet 'linear'"
    ):
        read_params(tmp_path / "other.xlsx")
    for sheet in ("linear", "nnet", "mmult", "sigmoid"):
        other.create_sheet(sheet)
    other.save(tmp_path / "other.xlsx")
    with pytest.raises(WorkbookError, match="sheet 'linear' has no Solver parameter range"):
        read_params(tmp_path / "other.xlsx")


# --- the real lesson ------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_full_workbook_has_the_lessons_891_and_712_rows(tmp_path):
    book = write_book(tmp_path / "titanic.xlsx", wb.load_titanic())
    all_rows = book.formulas["all_rows"]
    assert all_rows.max_row - 5 == 891 and all_rows.auto_filter.ref == "A5:J896"
    for sheet in MODEL_COLUMNS:
        rows = book.layout(sheet)
        assert rows["last"] - rows["first"] + 1 == 712 == book.formulas[sheet].max_row - rows["header"]
    r, c = book.labelled("linear", "Total loss:")
    # at the least-squares parameters the linear sheet sits on the floor
    assert book.values["linear"].cell(r, c + 1).value == pytest.approx(0.1442271493073191, abs=1e-15)


def test_torch_parameters_and_a_fit_without_a_random_start(tmp_path, small):
    fits = small.fits | {"linear": Fitted(torch.tensor(small.fits["linear"].params), None)}
    path = write_titanic_book(tmp_path / "t.xlsx", small.passengers, small.table, fits)
    book = openpyxl.load_workbook(path)
    texts = [c.value for row in book["linear"].iter_rows(max_row=12) for c in row if isinstance(c.value, str)]
    notes = [c.value for row in book["notes"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "No random start: fitted in closed form." in notes and "Start:" not in texts
    np.testing.assert_array_equal(read_params(path)["linear"], rounded(small.fits["linear"].params))


# --- features ------------------------------------------------------------------------------------


def test_features_sheet_shows_each_columns_reason_excel_formula_and_pandas_line(small):
    ws, linear = small.formulas["features"], small.formulas["linear"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Column")
    first = small.layout("linear")["first"]
    rows = {ws.cell(r, 1).value: r for r in range(header + 1, header + 9)}
    assert list(rows) == DERIVED
    for name, r in rows.items():
        col = small.column("linear", name)
        why, _, on_linear, pandas = (ws.cell(r, c).value for c in range(2, 6))
        assert len(why) > 40
        assert on_linear == str(
            linear[f"{col}{first}"].value
        )  # the linear sheet's own formula, word for word
        assert pandas.startswith(("rows[", "np.log10(rows[", "(rows[", "1.0"))
    assert ws.cell(rows["Age_N"], 3).value == "=Age/MAX(Age)"
    assert ws.cell(rows["log_Fare"], 3).value == "=LOG10(Fare+1)"
    assert ws.cell(rows["Embark_C"], 3).value == '=IF(Embarked="C",1,0)'


def test_features_sheet_finds_the_largest_values_and_counts_each_level_live(small):
    ws, values, t = small.formulas["features"], small.values["features"], small.table
    first, last = small.layout("linear")["first"], small.layout("linear")["last"]
    for name, want in (
        ("Age", t["Age"].max()),
        ("Fare", t["Fare"].max()),
        ("log_Fare", np.log10(t["Fare"] + 1).max()),
    ):
        r, c = _find(ws, f"Max {name}:")
        col = small.column("linear", name)
        assert ws.cell(r, c + 1).value == f"=MAX(linear!${col}${first}:${col}${last})"
        assert values.cell(r, c + 1).value == pytest.approx(want, abs=1e-15)
    counted = {}
    r = _find(ws, "Category")[0] + 1
    while ws.cell(r, 1).value:
        counted[ws.cell(r, 1).value, ws.cell(r, 2).value] = (ws.cell(r, 3).value, values.cell(r, 3).value)
        r += 1
    assert [level for _, level in counted] == ["1", "2", "3", "S", "C", "Q", "male", "female"]
    for (column, level), (formula, count) in counted.items():
        assert formula.startswith(f"=COUNTIF(linear!${small.column('linear', column)}${first}:")
        as_in_table = float(level) if column == "Pclass" else level
        assert count == int((t[column] == as_in_table).sum())
    notes = " ".join(str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str))
    assert "n-1" in notes and "Pclass_3" in notes and "none: the baseline" in notes


def _find(ws, text: str) -> tuple[int, int]:
    return next((c.row, c.column) for row in ws.iter_rows() for c in row if c.value == text)


def test_features_sheet_draws_fare_and_age_against_their_scaled_columns(small):
    with zipfile.ZipFile(small.path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    first, last = small.layout("linear")["first"], small.layout("linear")["last"]
    features = [c for c in charts if "against" in c]
    assert len(features) == 2
    for chart, (x, y) in zip(features, (("Fare", "log_Fare"), ("Age", "Age_N")), strict=True):
        xc, yc = small.column("linear", x), small.column("linear", y)
        assert f"<c:f>linear!${xc}${first}:${xc}${last}</c:f>" in chart
        assert f"<c:f>linear!${yc}${first}:${yc}${last}</c:f>" in chart


# --- plain words -----------------------------------------------------------------------------------


def test_no_cell_text_uses_jargon(small):
    assert jargon(small.path) == []
    assert (
        jargon_found_in(["the loss's Hessian", "numpy's lstsq", "gd+gn+lbfgs", "a gap"]) == 4
    )  # it can fail


def jargon_found_in(texts: list[str]) -> int:
    return sum(bool(JARGON.search(t)) for t in texts)


def test_no_heading_is_cut_off_by_its_column(small, tmp_path):
    assert clipped_headings(small.path) == []
    cramped = tmp_path / "cramped.xlsx"  # the test can fail: a heading wider than its column
    with workbench.sheets.write.xlsx.new_workbook(cramped, title="t") as book:
        ws, fmt = book.add_worksheet("s"), workbench.sheets.write.style.styles(book).header
        ws.write_string(0, 0, "a heading far wider than its column", fmt)
        ws.set_column(0, 0, 12)
    assert clipped_headings(cramped) == ["s!A1: 'a heading far wider than its column' in width 12"]


# --- the learner's path ------------------------------------------------------------------------------


def test_the_yellow_cells_are_the_only_parameters_any_model_formula_reads(small):
    """Solver changes the yellow cells (solver_adj); every Lin, Preds and MMULT formula reads them
    and no other parameter cell, so pasting a start anywhere else cannot fool the loss."""
    names = {(n.get("localSheetId"), n["name"]): n["value"] for n in defined_names(small.path)}
    for sheet, units in {"linear": 1, "nnet": 2, "mmult": 2, "sigmoid": 1}.items():
        ws, values, rows = small.formulas[sheet], small.values[sheet], small.layout(sheet)
        index = str(SHEETS.index(sheet))
        yellow = names[index, "solver_adj"].split("!")[1]
        read = set()
        for r in (rows["first"], rows["first"] + 1, rows["last"]):
            for cell in ws[r]:
                v = cell.value.text if isinstance(cell.value, ArrayFormula) else cell.value
                if isinstance(v, str) and ("SUMPRODUCT" in v or "MMULT" in v):
                    found = re.findall(r"\$[A-Z]+\$\d+:\$[A-Z]+\$\d+", v)
                    assert len(found) == 1, (sheet, v)  # the inputs are relative, the parameters absolute
                    read |= set(found)
        lo, hi = yellow.split(":")
        yellow_rows = range(int(lo.split("$")[2]), int(hi.split("$")[2]) + 1)
        want = {yellow} if sheet == "mmult" else {f"$G${r}:$P${r}" for r in yellow_rows}
        assert read == want and len(want) == (1 if sheet == "mmult" else units), sheet
        fill = {ws[c].fill.fgColor.rgb for c in _cells(yellow)}
        assert fill == {"FF" + workbench.sheets.write.style.PARAM_FILL[1:]}, sheet  # yellow, all of them
        assert all(isinstance(ws[c].value, float) for c in _cells(yellow))  # plain numbers
        for block in ("Start", "Fitted"):
            other = names[index, block].split("!")[1]
            assert not set(_cells(other)) & set(_cells(yellow))
            if block == "Fitted":  # a copy of the yellow cells as built
                assert [values[c].value for c in _cells(other)] == [values[c].value for c in _cells(yellow)]
        new = [c for row in ws.iter_rows(max_row=rows["header"]) for c in row if c.value == "=RAND()-0.5"]
        assert len(new) == 10 * units and all(-0.5 <= values[c.coordinate].value < 0.5 for c in new)
        assert not any(name == "Mine" for _, name in names)


def _cells(block: str) -> list[str]:
    """The cells of an absolute range such as $G$7:$P$8, row by row."""
    return [c.coordinate for row in openpyxl.Workbook().active[block.replace("$", "")] for c in row]


def test_the_notes_give_the_starts_loss_as_a_sum_and_an_average_beside_the_videos(small):
    t = small.table
    x, y = t[INPUTS].to_numpy(dtype=float), t["Survived"].to_numpy(dtype=float)
    losses = (x @ rounded(small.fits["linear"].start) - y) ** 2
    notes = notes_of(small, "linear")
    assert f"add up to {losses.sum():.2f}, {losses.mean():.2f} on average (Total loss:)" in notes
    assert "55.78" in notes and "1.03" in notes and "Data > Solver" in notes and "workbench solve" in notes
    nnet = notes_of(small, "nnet")
    assert "near 0.39" in nnet and "dead" in nnet
    opens = small.values["notes"]["A3"].value
    assert "open at the fitted parameters" in opens and "paste Start" in opens and "Solver once" in opens


# --- issue 22: what the sheets say is what their cells hold ---------------------------------------


def test_the_features_note_gives_the_ranges_the_linear_sheet_holds(small):
    note = small.values["features"]["A2"].value
    for name, words in (("SibSp", "siblings or spouses aboard"), ("Parch", "parents or children aboard")):
        col = small.column("linear", name)
        first, last = small.layout("linear")["first"], small.layout("linear")["last"]
        held = [small.values["linear"][f"{col}{r}"].value for r in range(first, last + 1)]
        assert f"{words}: {min(held):.0f} to {max(held):.0f}" in note
    assert f"on these {last - first + 1} rows" in note


def test_the_parameter_blocks_are_named_alike_on_every_sheet(small):
    """mmult's columns carry the words nnet's rows do ("Fitted", not "Fit")."""
    nnet = {str(c.value) for row in small.formulas["nnet"].iter_rows(max_row=20) for c in row if c.value}
    mmult = {str(c.value) for row in small.formulas["mmult"].iter_rows(max_row=20) for c in row if c.value}
    for block in ("Start", "Fitted"):
        assert {f"{block} 1:", f"{block} 2:"} <= nnet and {f"{block}1", f"{block}2"} <= mmult
    assert {"New start 1:", "New start 2:"} <= nnet and {"New1", "New2"} <= mmult
    assert not any(v.startswith("Used") for v in nnet | mmult)


def test_the_videos_row_count_is_said_to_be_a_guess(small):
    t = small.table
    x, y = t[INPUTS].to_numpy(dtype=float), t["Survived"].to_numpy(dtype=float)
    floor = np.mean((x @ np.linalg.lstsq(x, y, rcond=None)[0] - y) ** 2)
    notes = notes_of(small, "linear")
    assert "Our guess, as the video does not say" in notes and "about 54 rows" in notes
    assert f"over all {len(t)} rows a sum of 55.78 would average {55.78 / len(t):.3f}" in notes
    assert f"below the best any line reaches there, {floor:.3f}" in notes


@pytest.mark.parametrize("valid", [[0.14, 0.12, 0.11, 0.13], [0.14, 0.12, 0.11, 0.10]])
def test_the_sweeps_heading_says_what_its_numbers_show(tmp_path, small, valid):
    units = pd.DataFrame(
        {"units": [1, 2, 4, 8], "parameters": [10, 20, 40, 80], "train_loss": [0.15, 0.14, 0.13, 0.12],
         "valid_loss": valid}
    )  # fmt: skip
    path = tmp_path / "t.xlsx"
    write_titanic_book(path, small.passengers, small.table, small.fits, units=units)
    ws = openpyxl.load_workbook(path)["summary"]
    r = next(r for r in range(1, 60) if str(ws.cell(r, 1).value).startswith("More ReLUs"))
    heading = ws.cell(r, 1).value
    table = [[ws.cell(r + 2 + i, j).value for j in (1, 3, 4)] for i in range(4)]
    best = min(table, key=lambda row: row[2])[0]
    rises = best != table[-1][0]
    assert "train loss falls at every size" in heading
    assert (f"lowest at {best} ReLUs, higher with more (over-fitting)" in heading) == rises
    assert ("no over-fitting yet" in heading) == (not rises)


def test_the_summary_measures_how_much_valid_below_train_is_the_splits_luck(small):
    """The share is recounted here from the split's own recipe (torch.randperm, seeds 0 to 999)."""
    t = small.table
    x, y = t[INPUTS].to_numpy(dtype=float), t["Survived"].to_numpy(dtype=float)
    lower = 0
    for seed in range(1000):
        perm = torch.randperm(len(t), generator=torch.Generator().manual_seed(seed)).numpy()
        valid = np.isin(np.arange(len(t)), perm[: int(0.2 * len(t))])
        w = np.linalg.lstsq(x[~valid], y[~valid], rcond=None)[0]
        lower += np.mean((x[valid] @ w - y[valid]) ** 2) < np.mean((x[~valid] @ w - y[~valid]) ** 2)
    texts = [str(c.value) for row in small.values["summary"].iter_rows(max_row=30) for c in row if c.value]
    note = next(s for s in texts if "random 80%/20% splits" in s)
    assert f"below its train loss on {lower / 1000:.0%} of them" in note
    values = {}
    for sheet in ("linear", "nnet", "mmult", "sigmoid"):
        r, c = small.labelled(sheet, "Train loss:")
        values[sheet] = (
            small.values[sheet].cell(r, c + 1).value,
            small.values[sheet].cell(r + 1, c + 1).value,
        )
    below = [s for s, (train, valid) in values.items() if valid < train]
    assert note.startswith("Every model sheet") == (len(below) == 4)
    assert f"(linear: {values['linear'][1]:.3f} against {values['linear'][0]:.3f})" in note
