"""The thin admin endpoint: a JSON API and server-rendered staff pages over the same functions."""
