"""The wheel carries Kaggle's files from the top-level data/ as the package workbench.data, and
importlib.resources finds them there from an empty folder (.ci/run installs it and builds too)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

_LOAD = """
from workbench.titanic.data import TEST_CSV, TRAIN_CSV, load_titanic
print(TRAIN_CSV, len(load_titanic()), len(load_titanic(TEST_CSV)))
"""


@pytest.mark.slow
def test_the_wheel_holds_the_data_folder_and_reads_it_from_an_empty_folder(root, tmp_path):
    # pip leaves build/ and *.egg-info/ in the source folder: build from a copy of what the wheel needs
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy(root / name, source / name)
    for name in ("workbench", "data"):
        shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    wheel_dir = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-w", wheel_dir, source], check=True, capture_output=True)
    (wheel,) = wheel_dir.glob("workbench-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for name in ("titanic/train.csv", "titanic/test.csv", "README.md"):
            assert z.read(f"workbench/data/{name}") == (root / "data" / name).read_bytes(), name
    assert "workbench/data/__init__.py" in names
    assert not any(n.startswith("data/") for n in names)  # no top-level package named data

    unpacked, empty = tmp_path / "site", tmp_path / "empty"
    zipfile.ZipFile(wheel).extractall(unpacked)
    empty.mkdir()
    # -S: site-packages' .pth files (the editable install's finder) are not run, so workbench comes
    # from the wheel's files only; the libraries it needs from site-packages, put on the path.
    libraries = [p for p in sys.path if p.endswith("site-packages")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(unpacked), *libraries])}
    done = subprocess.run(
        [sys.executable, "-S", "-c", _LOAD], cwd=empty, env=env, capture_output=True, text=True, check=True
    )
    train = unpacked / "workbench" / "data" / "titanic" / "train.csv"
    assert done.stdout.split() == [str(train), "891", "418"]
    assert os.listdir(empty) == []
    kaggle = hashlib.sha256(train.read_bytes())
    assert kaggle.hexdigest() == "7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f"
