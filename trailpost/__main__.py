"""``python -m trailpost`` runs the command line."""

from trailpost.cli import main

main()
