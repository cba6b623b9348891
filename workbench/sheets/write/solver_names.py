"""Excel's Solver model, stored in a workbook so that Data > Solver opens ready to run.

Excel keeps the Solver dialog's settings as hidden defined names scoped to the
sheet: ``solver_opt`` is the objective cell, ``solver_adj`` the cells Solver may
change, and a dozen constants hold the options. These are the values of the
lesson's own workbook: minimise (``solver_typ`` 2) with GRG Nonlinear
(``solver_eng`` 1), variables allowed to be negative (``solver_neg`` 2), no
constraints (``solver_num`` 0).

Give :data:`NAMES` to :func:`workbench.sheets.write.xlsx.new_workbook` as ``hidden_names`` so
they stay out of the user's Name Manager, as Excel's own are.
"""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.utility import quote_sheetname

#: Solver's options, as Excel writes them (name -> constant).
SETTINGS: dict[str, str] = {
    "solver_cvg": "0.0001",  # convergence
    "solver_drv": "1",  # forward derivatives
    "solver_eng": "1",  # GRG Nonlinear
    "solver_est": "1",  # tangent estimates
    "solver_itr": "2147483647",  # no iteration limit
    "solver_mip": "2147483647",
    "solver_mni": "30",
    "solver_mrt": "0.075",  # Evolutionary engine's mutation rate
    "solver_msl": "2",  # multistart off
    "solver_neg": "2",  # variables may be negative (unconstrained)
    "solver_nod": "2147483647",
    "solver_num": "0",  # no constraints
    "solver_nwt": "1",  # Newton search
    "solver_pre": "0.000001",  # constraint precision
    "solver_rbv": "1",
    "solver_rlx": "2",
    "solver_rsd": "0",  # Evolutionary and multistart random seed (0: Excel picks one)
    "solver_scl": "1",  # automatic scaling
    "solver_sho": "2",
    "solver_ssz": "100",
    "solver_tim": "2147483647",  # no time limit
    "solver_tol": "0.01",  # integer optimality (%)
    "solver_typ": "2",  # minimise the objective
    "solver_val": "0",
    "solver_ver": "3",
}

#: Every name :func:`define_solver` creates on a sheet, in Excel's order (it sorts names alphabetically).
NAMES: tuple[str, ...] = tuple(sorted(("solver_opt", "solver_adj", *SETTINGS)))


def define_solver(book: xlsxwriter.Workbook, sheet: str, *, objective: str, changing: str) -> None:
    """Store a Solver model on ``sheet``: minimise the cell ``objective`` by changing ``changing``.

    ``objective`` and ``changing`` are absolute A1 references on that sheet, e.g.
    ``"$R$7"`` and ``"$G$7:$P$7"``.
    """
    where = quote_sheetname(sheet)
    values = {**SETTINGS, "solver_opt": f"{where}!{objective}", "solver_adj": f"{where}!{changing}"}
    for name in NAMES:  # XlsxWriter sorts them again as Excel does; defining them in that order too
        book.define_name(f"{where}!{name}", f"={values[name]}")
