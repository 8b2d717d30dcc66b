"""theorylab: claims of deep-learning theory as executable, measured, reproducible experiments."""

__version__ = "0.1.0"
