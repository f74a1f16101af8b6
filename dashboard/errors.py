"""The package's small exception hierarchy (geopy ``exc.py`` style): catch :class:`IncidentMapError` for all."""


class IncidentMapError(Exception):
    """Base class of every error this package raises on purpose."""


class ArticleError(IncidentMapError):
    """An article could not be read: empty, binary, undecodable or malformed. The message names the file."""


class GazetteerError(IncidentMapError):
    """The gazetteer data is missing or inconsistent."""


class StoreError(IncidentMapError):
    """The store could not be read or written; a failed write leaves the previous store intact."""


class DamagedStoreError(StoreError):
    """The store file is damaged (not SQLite, failing its integrity check, or missing its tables).

    It is refused and left as it is; the message says how to restore the last good copy.
    """


class ExtractionTimeout(IncidentMapError):
    """Extracting an article took longer than the time it was given (an upload's budget). The message names it."""
