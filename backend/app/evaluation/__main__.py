"""`python -m app.evaluation` runs the CLI too."""

from app.evaluation.cli import main

main()
