"""Tests of jisr.language.transliterate."""
