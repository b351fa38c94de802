"""Flask blueprints: Twilio webhooks, the JSON API, health, the dashboard and the patient simulator."""
