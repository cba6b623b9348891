"""Sheet kinds, and what their writers share (see :mod:`workbench.sheets`)."""
