"""Workbooks read back: the hardened reader, parameters, checks."""
