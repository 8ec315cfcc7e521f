"""Typed settings, logging and the zero-config embedded services."""
