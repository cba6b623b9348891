"""Skip a build whose inputs have not changed, as ``make`` does.

After a build, ``workbench build`` writes ``.workbench-build.json`` beside its outputs: a key
that hashes everything the outputs depend on, each output's sha256, and the build's report.
The next ``workbench build`` into that folder computes the key again (hashing a few hundred
kilobytes: no torch, no fit) and, when it is the same and every output is still there as
written, prints the stored report instead of fitting and writing it all again.
``--force`` always builds.

The key covers:

* workbench's own files (its source and bundled data), so an edited or upgraded workbench
  rebuilds;
* the training CSV's bytes and the seed;
* the versions of Python and of every library workbench depends on;
* the CPU: its model and instruction-set flags, and the environment variables that choose
  numpy's, torch's and OpenBLAS's code paths. Another CPU rounds the last bits of the fits
  differently (see :mod:`workbench.build`), so outputs built elsewhere, such as the
  committed ``workbooks/``, are rebuilt rather than reused.

An output edited since (a workbook saved after running Solver in it) no longer has its
sha256, so the build runs and replaces it, as a build without a stamp would. Which files
must be there comes from what the build writes (:data:`OUTPUTS`), not from the stamp: an
output deleted, or replaced while the stamp was edited to leave it out, is rebuilt.
A stamp that cannot be read or makes no sense (a name it lists that the build does not
write, ``../x`` say) is ignored, never trusted; a folder or FIFO at its name is refused
before the build starts. ``workbench build`` holds the output folder's lock
(:func:`workbench.files.output_folder`) from reading the stamp to writing it, so a second
build into the folder is refused and never vouched for.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import sys
from collections.abc import Collection
from importlib.resources import files
from pathlib import Path

from .csv_files import MAX_CSV_BYTES
from .errors import WorkbenchError
from .files import check_target, open_regular, write_text

#: The stamp's name in the output folder.
STAMP = ".workbench-build.json"

#: Every file ``workbench build`` writes (:data:`workbench.build.OUTPUTS`, which imports torch to
#: know them: a kept build answers without it; tests/test_stamp.py checks the two agree).
OUTPUTS = (
    "titanic.xlsx", "titanic_loss.png", "titanic_overfitting.png", "titanic_fare.png", "submission.csv",
    "line.xlsx", "line_fit.png", "line_loss.png", "line_descent.gif", "line_lr_too_low.gif",
    "line_lr_too_high.gif", "line_lr_sweep.png", "line_parabola.png",
    "quadratic.xlsx", "quadratic_fit.png", "quadratic_loss.png",
    "speed.xlsx", "speed_fit.png", "speed_loss.png", "speed_valley.png",
    "relu.xlsx", "relu_fit.png", "relu_loss.png", "relu_units.png", "relu_overfitting.png",
)  # fmt: skip

#: Environment variables that choose the math libraries' code paths, hence the last bits.
DISPATCH = (
    "NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "ATEN_CPU_CAPABILITY",
    "OPENBLAS_CORETYPE", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS",
)  # fmt: skip

_PACKAGE = Path(__file__).resolve().parent
_MAX_STAMP_BYTES = 2**20
_SHA256 = re.compile(r"[0-9a-f]{64}")


def key(data: str | os.PathLike[str] | None, seed: int | None) -> str:
    """The sha256 of everything a build's outputs depend on (see the module docstring)."""
    h = hashlib.sha256()
    for part in (_source(), _data(data), repr(seed), _versions(), _cpu()):
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def reusable(out: str | os.PathLike[str], build_key: str, outputs: Collection[str] = OUTPUTS) -> str | None:
    """The stored report if ``out`` holds a complete build made with ``build_key``, else ``None``.

    Complete: each of ``outputs`` (what this build would write, not what the stamp lists)
    is in ``out`` with the sha256 the stamp holds for it, and the stamp lists no other file.
    """
    stamp = _read(Path(out) / STAMP)
    if stamp is None or stamp.get("key") != build_key:
        return None
    files, report = stamp.get("files"), stamp.get("report")
    if not isinstance(files, dict) or set(files) != set(outputs) or not isinstance(report, str):
        return None
    for name in outputs:
        digest = files[name]
        if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
            return None
        if _digest(Path(out) / name) != digest:
            return None
    return report


def check(out: str | os.PathLike[str], data: str | os.PathLike[str] | None) -> None:
    """Refuse a build whose stamp could not be written (a folder or FIFO at its name), before it runs."""
    check_target(Path(out) / STAMP, inputs=[data])


def write(out: str | os.PathLike[str], build_key: str, files: list[Path], report: str) -> Path:
    """Record a finished build: its key, each of ``files`` (all in ``out``) with its sha256, its report."""
    digests = {Path(f).name: _digest(Path(f)) for f in files}
    stamp = {"key": build_key, "files": digests, "report": report}
    return write_text(Path(out) / STAMP, json.dumps(stamp, indent=1) + "\n")


def _source() -> bytes:
    h = hashlib.sha256()
    for path in sorted(p for p in _PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


def _data(data: str | os.PathLike[str] | None) -> bytes:
    # The bundled train.csv lives outside the package's folder (the top-level data/) in a
    # checkout, so its bytes are hashed here; "bundled" keeps the key apart from the same file
    # given by --data, whose report names it.
    bundled = data is None
    if bundled:
        data = Path(str(files("workbench.data").joinpath("titanic").joinpath("train.csv")))
    with open_regular(data, what="a CSV file", max_bytes=MAX_CSV_BYTES) as f:
        return b"bundled" * bundled + hashlib.file_digest(f, "sha256").digest()


def _versions() -> str:
    needs = importlib.metadata.requires("workbench") or []
    names = sorted({re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0] for r in needs if "extra ==" not in r})
    return f"{sys.version} " + " ".join(f"{n}={_version(n)}" for n in names)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _cpu() -> str:
    lines = []
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags", "Features", "CPU part"))]
    except OSError:
        pass  # not Linux: the platform and the processor name below still say which CPU
    info = " ".join(dict.fromkeys(" ".join(ln.split()) for ln in lines))
    env = " ".join(f"{v}={os.environ.get(v, '')}" for v in DISPATCH)
    return f"{platform.machine()} {platform.processor()} {info} {env}"


def _read(path: Path) -> dict | None:
    try:
        with open_regular(path, what="a build stamp", max_bytes=_MAX_STAMP_BYTES) as f:
            stamp = json.loads(f.read().decode("utf-8"))
    except (WorkbenchError, ValueError, RecursionError):
        return None
    return stamp if isinstance(stamp, dict) else None


def _digest(path: Path) -> str | None:
    """The sha256 of a regular file, or ``None`` if it is missing or anything else."""
    try:
        with open_regular(path, what="a build output", max_bytes=2**40) as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except WorkbenchError:
        return None
