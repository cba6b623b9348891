"""Details of how Excel and LibreOffice treat the files: text that looks like a formula, cached values."""

from __future__ import annotations

import re
import subprocess
import zipfile

import openpyxl
import pytest

import workbench as wb
from workbench.sheets.engines.recalc import find_soffice
from workbench.sheets.write.xlsx import new_workbook


@pytest.mark.slow
def test_text_that_starts_like_a_formula_carries_excels_leading_apostrophe(tmp_path):
    wb.build_all(out=tmp_path)
    found = 0
    for path in sorted(tmp_path.glob("*.xlsx")):
        for ws in openpyxl.load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "s" and str(cell.value)[:1] in "=+-@":
                        assert cell.quotePrefix, (
                            path.name,
                            ws.title,
                            cell.coordinate,
                        )  # F2 Enter keeps it text
                        found += 1
    assert found >= 1  # the descent sheets' "= 2 / how sharply the loss curves ..."


def app_claim(path) -> str:
    with zipfile.ZipFile(path) as z:
        return re.search(r"<Application>([^<]*)</Application>", z.read("docProps/app.xml").decode()).group(1)


def claiming(src, dst, app: str) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/app.xml":
                data = re.sub(
                    rb"<Application>[^<]*</Application>", f"<Application>{app}</Application>".encode(), data
                )
            zout.writestr(info, data)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_with_default_settings_trusts_cached_values_whatever_the_file_claims(tmp_path):
    base = tmp_path / "base.xlsx"
    with new_workbook(base, title="t") as book:
        ws = book.add_worksheet("s")
        ws.write_row(0, 0, [2, 3])
        ws.write_formula(1, 0, "=A1*B1", None, 999)  # a wrong cached value: 2*3 is 6
    assert app_claim(base) == "Microsoft Excel"  # what our workbooks claim (XlsxWriter's)
    claims = {"excel": "Microsoft Excel", "other": "workbench", "libreoffice": "LibreOffice/7.4"}
    for stem, app in claims.items():
        claiming(base, tmp_path / f"{stem}.xlsx", app)
    out = tmp_path / "out"
    profile = tmp_path / "profile"  # LibreOffice's default settings, not recalc.py's
    subprocess.run(
        [find_soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "xlsx",
         "--outdir", str(out), *(str(tmp_path / f"{s}.xlsx") for s in claims)],
        capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    for stem in claims:
        assert openpyxl.load_workbook(out / f"{stem}.xlsx", data_only=True)["s"]["A2"].value == 999, stem
