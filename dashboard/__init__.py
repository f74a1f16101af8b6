"""Incident map: news articles about Peru's cocaine economy turned into geocoded incidents."""

__version__ = "0.1.0"
