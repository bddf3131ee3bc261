"""moderation: rules, queues, claims, decisions, flags and the audit log."""
