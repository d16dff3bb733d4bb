"""Fixtures of the mail core tests (defined in :mod:`tests.lists.smtp`, shared with the list)."""

from tests.lists import smtp

intake_server = smtp.intake_server
smarthost = smtp.smarthost
sink_smarthost = smtp.sink_smarthost
