"""Errors that services raise and pages and the API show as they are (in Chinese)."""


class ServiceError(Exception):
    """A request that the rules refuse; the message is for the user."""


class NotAllowed(ServiceError):
    """The actor may not do this."""


class Conflict(ServiceError):
    """Someone else changed the object first; reload and try again."""


class InvalidField(ServiceError):
    """Input that the rules refuse, naming the field (the form shows the message next to it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
