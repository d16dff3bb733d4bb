"""tldops: the platform of a global incident-response community of ccTLD operators."""

__version__ = "0.1.0"
