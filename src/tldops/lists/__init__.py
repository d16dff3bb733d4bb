"""The list: mail intake, the durable outbox, and (later) the members-only mailing list."""
