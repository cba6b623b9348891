"""The validation set (issue 13): the split, the model sheets' train and valid cells, `check` on them,
and over-fitting made visible."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
import torch
from small_book import INPUTS, write_small_book

import workbench as wb


def fastai_split(n: int, valid_pct: float = 0.2, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """fastai's RandomSplitter, from its source: torch.manual_seed(seed), randperm, the first cut valid."""
    with torch.random.fork_rng():  # leaves the global generator as it was
        torch.manual_seed(seed)
        perm = torch.randperm(n).numpy()
    cut = int(valid_pct * n)
    return np.sort(perm[cut:]), np.sort(perm[:cut])


def test_the_split_is_fastais_random_splitter_disjoint_and_whole(table):
    train, valid = wb.validation_split(table)
    assert (len(train), len(valid)) == (570, 142)
    kept, held = fastai_split(len(table))
    assert train.index.equals(table.index[kept]) and valid.index.equals(table.index[held])
    assert not set(train.index) & set(valid.index)
    assert sorted([*train.index, *valid.index]) == sorted(table.index)
    again, _ = wb.validation_split(table)
    assert again.index.equals(train.index)
    other, _ = wb.validation_split(table, valid_pct=0.3, seed=1)
    assert len(other) == 712 - int(0.3 * 712) and not other.index.equals(train.index)


@pytest.mark.parametrize(
    ("pct", "seed", "match"),
    [(0, 42, "between 0 and 1"), (1.5, 42, "between 0 and 1"), (True, 42, "between 0 and 1"),
     (0.2, -1, "seed must be"), (0.001, 42, "leaves 0 validation rows")],
)  # fmt: skip
def test_a_bad_split_is_a_one_line_error(table, pct, seed, match):
    with pytest.raises(wb.WorkbenchError, match=match):
        wb.validation_split(table, valid_pct=pct, seed=seed)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_small_book(tmp_path_factory.mktemp("valid") / "titanic.xlsx")


def results(path, sheet: str) -> dict[str, tuple[str, float]]:
    """label -> (formula, cached value) of the cell right of each label above the header."""
    formulas = openpyxl.load_workbook(path)[sheet]
    values = openpyxl.load_workbook(path, data_only=True)[sheet]
    found = {}
    for row in formulas.iter_rows(max_row=20):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.endswith(":"):
                right = (cell.row, cell.column + 1)
                found[cell.value] = (formulas.cell(*right).value, values.cell(*right).value)
    return found


def test_every_model_sheet_shows_the_set_and_live_train_and_valid_results(small):
    x, y = small.inputs(), small.survived()
    _, held = fastai_split(len(y))
    is_valid = np.isin(np.arange(len(y)), held)
    preds = {
        "linear": x @ small.params["linear"],
        "sigmoid": 1 / (1 + np.exp(-(x @ small.params["sigmoid"]))),
    }
    ws = openpyxl.load_workbook(small.path)["linear"]
    header = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Survived")
    col = next(c for c in range(1, 40) if ws.cell(header, c).value == "Set")
    sets = [ws.cell(header + 1 + i, col).value for i in range(len(y))]
    assert sets == ["valid" if v else "train" for v in is_valid]
    for sheet, p in preds.items():
        got = results(small.path, sheet)
        for name, rows in (("Train", ~is_valid), ("Valid", is_valid), ("Total", np.ones_like(is_valid))):
            assert got[f"{name} loss:"][1] == pytest.approx(np.mean((p[rows] - y[rows]) ** 2), abs=1e-12)
        for label, rows in (("Train accuracy:", ~is_valid), ("Valid accuracy:", is_valid)):
            assert got[label][1] == pytest.approx(np.mean((p[rows] > 0.5) == (y[rows] == 1)), abs=1e-15)
        assert got["Train loss:"][0].startswith("=AVERAGEIF(") and '"train"' in got["Train loss:"][0]
        assert "--" not in got["Valid accuracy:"][0] and got["Valid accuracy:"][0].startswith("=SUMPRODUCT(")


def test_check_compares_train_and_valid_and_sees_a_row_moved_between_sets(small, tmp_path):
    result = wb.check_workbook(small.path)
    assert result.ok and [s.rows_in for s in result.sheets[0].sets] == ["train", "valid"]
    assert result.sheets[0].sets[1].rows == int(0.2 * len(small.table))
    # Move the first train row to valid without recalculating: the stored train and valid
    # losses are now stale, while every row's total still agrees.
    book = openpyxl.load_workbook(small.path)
    ws = book["linear"]
    header = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Survived")
    col = next(c for c in range(1, 40) if ws.cell(header, c).value == "Set")
    first = next(r for r in range(header + 1, header + 100) if ws.cell(r, col).value == "train")
    ws.cell(first, col).value = "Valid"  # AVERAGEIF matches it case-blind; so does check
    path = tmp_path / "moved.xlsx"
    book.save(path)
    linear = wb.check_workbook(path).sheets[0]
    assert linear.sets[1].rows == int(0.2 * len(small.table)) + 1
    ws.cell(first, col).value = "test"
    book.save(path)
    with pytest.raises(
        wb.WorkbookError, match=r"cell linear!\w+\d+ \(Set\) holds 'test'; expected \"train\""
    ):
        wb.check_workbook(path)


def test_the_workbook_refuses_an_empty_set(small):
    table, passengers = small.table, wb.load_titanic().head(80)
    fits = {k: wb.Params(v) for k, v in small.params.items() if k != "mmult"}
    with pytest.raises(wb.WorkbenchError, match="each need at least one row"):
        wb.write_titanic_book(small.path.parent / "x.xlsx", passengers, table, fits, valid=table.index)
    with pytest.raises(wb.WorkbenchError, match="PassengerId 9999 is not a row"):
        wb.write_titanic_book(small.path.parent / "x.xlsx", passengers, table, fits, valid=[9999])


def test_more_relus_fit_train_better_and_valid_worse(table):
    """The over-fitting the summary shows: 32 ReLUs beat 8 on the train rows, lose on the valid rows."""
    train, valid = wb.validation_split(table)
    frame = wb.more_units(train, valid, units=(8, 32))
    assert list(frame.parameters) == [80, 320]
    eight, wide = frame.iloc[0], frame.iloc[1]
    assert wide.train_loss < eight.train_loss - 0.01 and wide.valid_loss > eight.valid_loss + 0.01


def test_the_sweep_fits_every_size_at_least_as_well_as_the_net_it_is_given(table):
    """The nnet sheet's net competes for the 2-ReLU row, and each larger net starts from the one
    before it split in parts: no size ends above a smaller one on the train rows."""
    train, valid = wb.validation_split(table)
    x, y = train[INPUTS].to_numpy(float), train["Survived"].to_numpy(float)
    line = np.linalg.lstsq(x, y, rcond=None)[0]
    net = np.stack([line, np.zeros_like(line)])  # a ReLU of the best line, and a dead one
    frame = wb.more_units(train, valid, units=(1, 2, 4), net=net, starts=1, iterations=30)
    given = np.mean((np.maximum(x @ net.T, 0).sum(1) - y) ** 2)
    assert frame.train_loss[1] <= given + 1e-15 and frame.train_loss[2] <= frame.train_loss[1] + 1e-15


def test_the_valid_margin_is_twice_the_standard_error_of_each_nets_difference_to_the_best(table):
    import statistics

    from workbench.titanic.compare import valid_margin

    errors = np.random.default_rng(3).random((4, 142)) ** 2
    errors[2] *= 0.5  # the lowest
    expected = [
        2 * statistics.stdev(list(e - errors[2])) / 142**0.5 if k != 2 else 0.0 for k, e in enumerate(errors)
    ]
    np.testing.assert_allclose(valid_margin(errors), expected, rtol=1e-12, atol=0)
    train, valid = wb.validation_split(table)
    frame = wb.more_units(train, valid, units=(1, 2, 4), starts=1, iterations=30)
    best = int(np.argmin(frame.valid_loss))
    assert frame.valid_margin[best] == 0 and (frame.valid_margin.drop(best) > 0).all()


# the lesson's table; a few passengers, where a split's train rows can leave a dummy all zero
@pytest.mark.parametrize("rows", [712, 40])
def test_the_luck_of_the_split_is_each_splits_own_least_squares(table, rows):
    from workbench.titanic.split import _least_squares_each, valid_below_train, valid_mask

    small = table.head(rows)
    x, y = small[INPUTS].to_numpy(dtype=float), small["Survived"].to_numpy(dtype=float)
    valid = np.stack([valid_mask(rows, 0.2, seed) for seed in range(60)])
    each = _least_squares_each(x, y, ~valid)
    lower = 0
    for k, v in enumerate(valid):
        w = np.linalg.lstsq(x[~v], y[~v], rcond=None)[0]  # numpy's own minimum-norm solution
        np.testing.assert_allclose(x @ each[k], x @ w, rtol=0, atol=1e-9)
        lower += np.mean((x[v] @ w - y[v]) ** 2) < np.mean((x[~v] @ w - y[~v]) ** 2)
    assert valid_below_train(small, splits=60) == lower / 60
    if rows == 40:  # some split's train rows cannot tell every feature apart
        assert any(np.linalg.matrix_rank(x[~v]) < x.shape[1] for v in valid)
