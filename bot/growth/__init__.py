"""Growth from the patients a practice has: the upsell matrix, segments, offer moments, attribution, A/B."""
