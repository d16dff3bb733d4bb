"""The directory: people, their ccTLD memberships, the vetting flow, audit log and coverage."""
