"""Placeholder; see its issue."""
