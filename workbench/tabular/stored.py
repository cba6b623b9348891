"""A recipe as JSON: kept inside its workbook, and applied to new rows of the same kind.

A table's workbook holds the recipe that made it (a hidden ``recipe`` sheet), so a user who
has only the workbook can predict new rows the way its sheets would: the train rows' largest
values and fills, the same levels. Every feature is computed from its record's fields alone
(:func:`compute`): kind, source, scale, fill, level, kept levels; a test checks that this
gives :attr:`Prepared.table` for every recipe, so the stored recipe cannot drift from the book.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from . import hints
from .columns import num
from .recipe import Feature, Prepared, Target

#: The record fields kept (``python`` is rebuilt from them by :func:`compute`).
FIELDS = ("name", "source", "kind", "reason", "excel", "scale", "scale_excel", "fill", "fill_excel")
FIELDS += ("level", "baseline", "kept", "stats")
VERSION = 1
#: The kinds of feature that read their column as numbers (the others, dummies, read its levels).
NUMBER_KINDS = ("scaled", "log_scaled", "log", "raw")
#: The hidden sheet of a table's workbook that keeps its recipe (in cells of at most CHUNK characters).
SHEET, CHUNK = "recipe", 30_000


@dataclass(frozen=True)
class Recipe:
    """What :func:`apply` needs: the target's record, the features, how missing values were met;
    the columns read with grouped digits or as percents; the identifiers left out (``PassengerId``),
    which :func:`predictions` writes beside each prediction."""

    target: Target
    features: tuple[Feature, ...]
    missing: str
    grouped: tuple[str, ...] = ()
    percents: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()

    @property
    def text_columns(self) -> list[str]:
        """The columns whose levels were read as text: new rows' must be too, even where every
        value is a number (Cylinders 4 and 6, with no 'rotary' among them)."""

        def text(f: Feature) -> bool:
            return f.kind in ("dummy", "other") and any(
                isinstance(v, str) for v in (f.level, f.baseline, *f.kept)
            )

        return list(dict.fromkeys(f.source for f in self.features if text(f)))


def compute(f: Feature, raw: pd.DataFrame) -> np.ndarray:
    """The feature's column for the rows of ``raw`` (source columns as read, NaN where missing)."""
    if f.kind == "ones":
        return np.ones(len(raw))
    x = raw[f.source]
    if f.kind == "dummy":
        return (x == f.level).to_numpy(dtype="float64")
    if f.kind == "other":
        return (x.notna() & ~x.isin(list(f.kept))).to_numpy(dtype="float64")
    x = (x if f.fill is None else x.fillna(f.fill)).to_numpy(dtype="float64")
    return {
        "scaled": lambda: x / f.scale,
        "log_scaled": lambda: np.log10(x + 1) / f.scale,
        "log": lambda: np.log10(x + 1),
        "raw": lambda: x,
    }[f.kind]()


def dumps(prep: Prepared) -> str:
    """The recipe of ``prep`` as JSON text."""
    t = prep.target
    target = {"name": t.name, "kind": t.kind, "metric": t.metric, "reason": t.reason, "excel": t.excel}
    target["mapping"] = [list(pair) for pair in t.mapping]
    features = [{k: _plain(getattr(f, k)) for k in FIELDS} for f in prep.features]
    recipe = {"version": VERSION, "target": target, "features": features, "missing": prep.missing}
    for kept in ("grouped", "percents"):  # (absent from the books of before: none)
        if getattr(prep, kept):
            recipe[kept] = list(getattr(prep, kept))
    if ids := [c.column for c in prep.left_out if c.why == "identifier"]:
        recipe["ids"] = ids
    return json.dumps(recipe, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def loads(text: str, where: str) -> Recipe:
    """A :class:`Recipe` from :func:`dumps`'s text; ``where`` names it in errors."""
    try:
        data = json.loads(text)
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, not {VERSION}")
        t = data["target"]
        mapping = tuple((v, int(k)) for v, k in t["mapping"])
        python = _target_python(t, mapping)
        target = Target(t["name"], t["kind"], t["metric"], t["reason"], python, t["excel"], mapping)
        features = tuple(_feature(f) for f in data["features"])
        kept = (tuple(map(str, data.get(k, []))) for k in ("grouped", "percents", "ids"))
        return Recipe(target, features, str(data["missing"]), *kept)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise DataError(f"{where}: holds no recipe workbench can read ({e})") from None


def _feature(fields: dict) -> Feature:
    values = {k: fields[k] for k in FIELDS}
    values["kept"] = tuple(values["kept"])
    record = Feature(python=lambda raw: 0.0, **values)
    return Feature(python=lambda raw, f=record: compute(f, raw), **values)


def _target_python(t: dict, mapping: tuple):
    name = t["name"]
    if t["kind"] == "numeric" or t["excel"] == "={col}":
        return lambda raw: raw[name].astype("float64")
    one = next(v for v, k in mapping if k == 1)
    return lambda raw: (raw[name] == one).astype("float64")


def _plain(value):
    """A field as JSON holds it: numpy numbers as Python's, tuples as lists."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def apply(recipe: Recipe, frame: pd.DataFrame, source: str) -> tuple[np.ndarray, list[str]]:
    """The feature matrix of new rows (``frame`` from :func:`~workbench.tabular.read_table`), and
    what was done that the user should know (levels the train rows never showed).

    Raises:
        DataError: a used column missing, text where the recipe reads numbers, or a missing value
            the recipe cannot fill (it dropped such rows); every column at fault named at once.
    """
    used = list(dict.fromkeys(f.source for f in recipe.features if f.source))
    absent = [c for c in used if c not in frame.columns]
    if absent:
        raise DataError(
            f"{source}: has no column {', '.join(map(repr, absent))}, which the recipe uses", path=source
        )
    problems, notes, gaps, filled = [], [], [], []
    for name in used:
        col, made = frame[name], [f for f in recipe.features if f.source == name]
        problems += _problems(name, col, made, recipe.missing)
        problems += _percents(name, col, name in recipe.percents, frame.attrs.get("units", {}).get(name))
        gaps += _gaps(name, col, made, recipe.missing)
        notes += _unseen(name, col, made)
        filled += _filled(name, col, made)
    if gaps:
        problems.append(_gaps_message(gaps, recipe.missing))
    notes += filled  # after every column's unseen levels
    if problems:
        raise DataError(f"{source}: " + "; ".join(problems), path=source, column=used[0])
    raw = frame[used]
    return np.column_stack([compute(f, raw) for f in recipe.features]), notes


def _problems(name: str, col: pd.Series, made: list[Feature], missing: str) -> list[str]:
    numeric = any(f.kind in NUMBER_KINDS for f in made)
    out = []
    if numeric and not pd.api.types.is_numeric_dtype(col):
        words = (col.notna() & pd.to_numeric(col, errors="coerce").isna()).to_numpy()
        row = col.index[words.argmax()]
        word = str(col.loc[row])[:40]
        out.append(f"column {name!r}, row {row} holds {word!r} where the recipe reads numbers")
    return out


def predictions(recipe: Recipe, frame: pd.DataFrame, preds: np.ndarray) -> tuple[list[tuple], str]:
    """The rows of a predictions CSV for the rows of ``frame``, header first: each row's identifier
    (the first the recipe left out that ``frame`` has, as Kaggle's submissions want it; else its row
    number) and its prediction (for a target of two values, one of those values as the table has
    them: the sheet's 1 above 0.5); and how many were predicted 1, in words."""
    key = next((c for c in recipe.ids if c in frame.columns), None)
    ids = frame.index if key is None else [_whole(v) for v in frame[key]]
    if recipe.target.kind != "binary":
        shown, said = [float(p) for p in preds], ""
    else:
        values = {k: _whole(v) for v, k in recipe.target.mapping}
        shown, one = [values[int(p > 0.5)] for p in preds], values[1]
        said = f"; {shown.count(one)} predicted {one!r}" + ("" if one == 1 else " (the sheet's 1)")
    return [(key or "row", recipe.target.name), *zip(ids, shown, strict=True)], said


def _whole(v):
    """A number that is whole as an int (PassengerId 892, not 892.0); anything else as it is."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _percents(name: str, col: pd.Series, were: bool, unit: str | None) -> list[str]:
    """A column written as percents in the book's table but not here, or the other way round: 12%
    is 0.12, so the same number read the other way is 100 times too large or too small."""
    if col.isna().all() or were == (unit == "%"):
        return []
    book, here = ("percents (12% is 0.12)", "plain numbers") if were else ("plain numbers", "percents")
    return [f"column {name!r} holds {here}, where the book's table held {book}: write it as that table did"]


def _gaps(name: str, col: pd.Series, made: list[Feature], missing: str) -> list[str]:
    """``["'Age' on 3 rows (first: row 7)"]`` when the recipe cannot take ``col``'s gaps, else ``[]``."""
    gaps = col.isna().to_numpy()
    numeric = [f for f in made if f.kind in NUMBER_KINDS]
    if not gaps.any() or (missing == "fill" and all(f.fill is not None for f in numeric)):
        return []
    count, first = int(gaps.sum()), col.index[gaps.argmax()]
    return [f"{name!r} on {count} row{'s' if count > 1 else ''} (first: row {first})"]


def _gaps_message(gaps: list[str], missing: str) -> str:
    """One clause for every column whose gaps the recipe cannot take, and what would take them."""
    where = ", ".join(gaps)
    if missing != "fill":
        return (
            f"missing values the book's recipe cannot predict from: {where}; it was built dropping rows with"
            f" a gap, so fill those values or remove those rows, or build the book again with"
            f" {hints.option('missing', 'fill')} (it learns a fill for every column from the train rows)"
        )
    return (
        f"missing values the book's recipe has no fill for: {where} (it was built when fills were learnt"
        " only where the table had gaps); fill those values or remove those rows, or build the book again"
    )


def _filled(name: str, col: pd.Series, made: list[Feature]) -> list[str]:
    """What ``col``'s gaps become, as the book's own sheets fill them (``missing='fill'``): the
    features ``made`` of it say how; none said when it has no gap."""
    count = int(col.isna().sum())
    if not count:
        return []
    rows = f"{count} rows have no {name}" if count > 1 else f"1 row has no {name}"
    fill = next((f.fill for f in made if f.fill is not None), None)
    if fill is not None:
        return [f"{rows}: filled with the median {num(fill)} of the train rows, as the book fills its own"]
    return [f"{rows}: counted as the baseline (every dummy 0), as the book counts its own"]


def _unseen(name: str, col: pd.Series, made: list[Feature]) -> list[str]:
    dummies = [f for f in made if f.kind in ("dummy", "other")]
    if not dummies or any(f.kind == "other" for f in dummies):
        return []  # no dummies, or every level but the kept ones is "other" by design
    known = {dummies[0].baseline, *(f.level for f in dummies if f.kind == "dummy")}
    known |= {v for f in dummies for v in f.kept}
    new = col[col.notna() & ~col.isin(list(known))]
    if new.empty:
        return []
    shown = ", ".join(repr(_whole(v)) for v in new.value_counts().index[:3]) + (
        ", ..." if new.nunique() > 3 else ""
    )
    return [
        f"{len(new)} rows have a {name} the train rows never showed ({shown}): counted as the baseline"
        " (every dummy 0)"
    ]
