"""Collaborative detection: the health of every ccTLD's name servers, seen from many vantage points.

:mod:`~tldops.monitor.codes` lists every finding (a stable code, a severity, a one-line explanation
and its RFC); :mod:`~tldops.monitor.results` is what one sweep returns; :mod:`~tldops.monitor.sweep`
runs one sweep of the checks over a set of ccTLDs. The models keep the sweeps of every vantage
point (the hub's built-in probe and the probes members run), their findings as time series, and
the incidents opened when several vantage points agree.
"""
