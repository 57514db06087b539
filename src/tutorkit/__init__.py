"""tutorkit: create and update reproducible companion repos for ML tutorials."""

__version__ = "0.1.0"
