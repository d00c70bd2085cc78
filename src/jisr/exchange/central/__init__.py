"""exchange/central."""
