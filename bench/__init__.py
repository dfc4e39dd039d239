"""The tinylaunch benchmark (issue 7): python3 -m bench. Not part of the package."""
