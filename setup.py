"""The wheel's packages: every ``workbench*`` package, and ``workbench.data`` from the top-level
``data/`` folder (pyproject.toml's package-data lists its files), so an installed wheel carries
Kaggle's files and ``importlib.resources.files("workbench.data")`` finds them."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["workbench*"], exclude=["*__pycache__"]), "workbench.data"],
    package_dir={"workbench.data": "data"},
)
