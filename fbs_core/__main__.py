"""``python -m fbs_core`` runs the ``fbs`` command line."""

from fbs_core.cli import main

main(prog_name="fbs")
