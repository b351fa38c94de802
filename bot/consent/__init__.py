"""What each patient agreed to: opt-out and opt-in, and their data's export and erasure."""
