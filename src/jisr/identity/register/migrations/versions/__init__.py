"""Revisions of the population register."""
