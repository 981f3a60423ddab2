"""Errors that services raise and pages and the API show as they are (in Chinese)."""


class ServiceError(Exception):
    """A request that the rules refuse; the message is for the user."""


class NotAllowed(ServiceError):
    """The actor may not do this."""


class Conflict(ServiceError):
    """Someone else changed the object first; reload and try again."""
