"""Whole workbooks, composed of the sheet kinds of :mod:`workbench.sheets.write`."""
