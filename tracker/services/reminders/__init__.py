"""The reminders feature: planning the outbox, delivering digests, and calendar feeds.

Other features use only the names below; nothing else reaches inside."""
