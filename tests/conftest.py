"""Shared test set-up.

* ``pytest`` runs the fast tests; ``pytest --slow`` runs everything (CI does).
* Tests marked ``libreoffice`` need LibreOffice's ``soffice``. Without it they are
  skipped, unless ``WORKBENCH_REQUIRE_LIBREOFFICE=1`` (set by ``.ci/run``), where a
  missing LibreOffice is a failure: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.sheets.engines.recalc import find_soffice

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = config.getoption("--slow")
    have_lo = find_soffice() is not None
    need_lo = os.environ.get("WORKBENCH_REQUIRE_LIBREOFFICE") == "1"
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow: run with --slow"))
        if "libreoffice" in item.keywords and not have_lo:
            if need_lo:
                item.add_marker(pytest.mark.usefixtures("_missing_libreoffice"))
            else:
                item.add_marker(pytest.mark.skip(reason="LibreOffice (soffice) is not installed"))


@pytest.fixture
def _missing_libreoffice() -> None:
    pytest.fail("LibreOffice (soffice) is not installed, and WORKBENCH_REQUIRE_LIBREOFFICE=1 requires it")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def table():
    import workbench as wb

    return wb.lesson_table()
