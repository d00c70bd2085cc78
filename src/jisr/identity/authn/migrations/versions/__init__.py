"""Revisions of authentication."""
