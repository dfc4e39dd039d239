"""A module that //venv:main.py imports from the runfiles (the .site TreeArtifact)."""

GREETING = "hello from greeting.py"
