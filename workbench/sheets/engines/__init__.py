"""Spreadsheet engines driven from Python: LibreOffice recalculation and Solver."""
