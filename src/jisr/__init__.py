"""Jisr: sovereign digital public infrastructure for governments that cooperate across borders."""

__version__ = "0.1.0"
