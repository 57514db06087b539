"""tutorkit: create and update reproducible companion repos for ML tutorials."""

# The one place the version is written: the package metadata reads it at build time
# ([tool.hatch.version] in pyproject.toml), and `tutorkit new` records v<version> as the
# template's tag. A release bumps it here, with a CHANGELOG.md section of the same name.
__version__ = "0.4.0"
