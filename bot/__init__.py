"""Aftercare's conversation core."""
