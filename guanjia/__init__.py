"""Guanjia (管家): enterprise service and investment promotion platform."""

__version__ = "0.1.0"
