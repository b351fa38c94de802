"""Booking by text: open times a patient can be offered, and booking requests staff confirm."""
