"""Tests of cross-script person-name matching (jisr.language.names)."""
