"""`make demo`: the whole system on one machine, with its seeded practice and fakes."""
