"""A recipe kept as JSON computes the same table, and applies to new rows with its train statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.tabular import prepare, read_table
from workbench.tabular.stored import apply, dumps, loads

palmerpenguins = pytest.importorskip("palmerpenguins")
PENGUINS_CSV = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


def _deck(path):
    frame = read_table(path)
    return frame.assign(Deck=frame["Ticket"].str[:2])  # 40-odd levels: nine kept, the rest in Deck_other


@pytest.mark.parametrize(
    ("read", "target", "options"),
    [
        (lambda: read_table(PENGUINS_CSV), "sex", {}),
        (lambda: read_table(PENGUINS_CSV), "body_mass_g", {"missing": "fill"}),
        (lambda: read_table(wb.TRAIN_CSV), "Survived", {"recipe": "lesson"}),
        (lambda: _deck(wb.TRAIN_CSV), "Survived", {"missing": "fill"}),
    ],
)
def test_the_stored_recipe_computes_the_prepared_table(read, target, options):
    prep = prepare(read(), target, **options)
    assert (
        options.get("recipe") or any(f.kind == "other" for f in prep.features) or target == "sex" or options
    )
    recipe = loads(dumps(prep), "test")
    assert [f.name for f in recipe.features] == list(prep.feature_names)
    x, notes = apply(recipe, prep.raw, "test")
    assert np.array_equal(x, prep.X)
    # no level the train rows never showed; a note for each used column's gaps (with missing='fill')
    used = {f.source for f in recipe.features if f.source}
    gaps = {c: n for c, n in prep.raw.isna().sum().items() if n and c in used}
    assert [note.split(":")[0] for note in notes] == [
        f"{n} rows have no {c}" if n > 1 else f"1 row has no {c}" for c, n in gaps.items()
    ]
    if "Deck" in prep.raw:
        assert any(f.kind == "other" for f in prep.features)
    assert np.array_equal(recipe.target.python(prep.raw), prep.y)


def test_new_rows_use_the_train_statistics_and_say_what_they_never_saw():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.uniform(1, 10, 100), "colour": rng.choice(["red", "blue"], 100)})
    frame["price"] = 3 * frame["size"] + (frame.colour == "red") + rng.normal(0, 3, 100)
    frame.loc[[3, 50], "size"] = np.nan  # gaps in the train rows: the recipe learns a fill
    prep = prepare(frame, "price", missing="fill")
    recipe = loads(dumps(prep), "book.xlsx")
    new = pd.DataFrame({"size": [20.0, np.nan], "colour": ["green", "red"]}, index=[1, 2])
    x, notes = apply(recipe, new, "new.csv")
    train = frame[~prep.valid]
    size = next(f for f in prep.features if f.source == "size")
    # by hand: the train rows' largest size scales, their median fills the gap
    assert x[0, 0] == pytest.approx(20.0 / train["size"].abs().max())
    assert (
        x[1, 0] == pytest.approx(train["size"].median() / train["size"].abs().max()) and size.fill is not None
    )
    assert notes == [
        "1 rows have a colour the train rows never showed ('green',): counted as the baseline (every dummy 0)"
    ] or notes[0].startswith("1 rows have a colour the train rows never showed ('green')")


def test_rows_the_recipe_cannot_take_are_named_all_at_once():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    frame["y"] = frame.a + rng.normal(size=50)
    recipe = loads(dumps(prepare(frame, "y")), "book.xlsx")
    new = pd.DataFrame({"a": [1.0, np.nan], "b": ["x", "2"]}, index=[1, 2])
    with pytest.raises(wb.DataError) as e:
        apply(recipe, new, "new.csv")
    said = str(e.value)
    assert "'a' on 1 row (first: row 2)" in said and "column 'b', row 1 holds 'x'" in said
    with pytest.raises(wb.DataError, match="has no column 'b', which the recipe uses"):
        apply(recipe, new[["a"]], "new.csv")
    with pytest.raises(wb.DataError, match=r"book\.xlsx: holds no recipe"):
        loads('{"version": 0}', "book.xlsx")
