"""Fixtures of the monitor's tests."""

from tests.monitor.incident_world import world  # noqa: F401 - the incidents' world
