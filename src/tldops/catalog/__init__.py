"""The catalog: every delegated ccTLD with its IANA data and name servers."""
