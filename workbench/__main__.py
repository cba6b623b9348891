"""``python -m workbench``: the same as the ``workbench`` command."""

from .cli import command

command()
