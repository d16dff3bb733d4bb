"""Security alerts and queries: structured, TLP-marked messages of the community (issue 10).

- :mod:`tldops.alerts.tlp` — the Traffic Light Protocol 2.0 labels and who may read what;
- :mod:`tldops.alerts.split` — splitting a list of domain names by ccTLD (DGA output, phishing
  feeds), for the per-ccTLD slices and ``tldops alert split``;
- :mod:`tldops.alerts.indicators` — validating and normalising indicators (domains, addresses,
  prefixes, URLs, ASNs, hashes, email addresses), streamed from files of any size.
"""
