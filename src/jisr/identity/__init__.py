"""Jisr identity: the population register, authentication and OpenID Connect."""
