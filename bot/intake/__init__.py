"""Appointments in from practice systems: the JSON schema, upsert by external id, CSV import, referrals."""
