"""Reusable widgets of the explorer (one per module)."""
