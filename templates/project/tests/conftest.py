"""Tests run every notebook and the train script in the smoke profile: seconds, not minutes."""

import os

os.environ.setdefault("TUTORIAL_PROFILE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
