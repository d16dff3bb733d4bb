"""Fixtures of the mail tests (defined in :mod:`tests.lists.smtp`, shared with the directory)."""

from tests.lists import smtp

intake_server = smtp.intake_server
smarthost = smtp.smarthost
sink_smarthost = smtp.sink_smarthost
