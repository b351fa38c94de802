"""Follow-up sequences: plans as data, planning touches, the sending rules, dispatch exactly once, previews."""
