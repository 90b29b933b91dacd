"""``python -m mltrail.cli`` runs the command line, like the ``mltrail`` script."""

from mltrail.cli._main import main

main()
