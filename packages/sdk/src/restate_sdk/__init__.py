"""Restate SDK for Python."""
