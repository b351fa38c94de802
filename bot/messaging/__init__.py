"""Getting text and email out: Twilio transport, the outbox, delivery status, segments, phones, pacing, mail."""
