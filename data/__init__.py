"""Kaggle's Titanic files (see README.md here), installed as the package ``workbench.data``.

The folder is the repository's top-level ``data/``; setup.py maps it into the wheel as
``workbench.data``, and this file makes it a regular package, so ``importlib.resources`` finds
the files from an installed wheel and from an editable install alike.
"""
