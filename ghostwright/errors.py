"""One exception hierarchy for the whole project.

Every failure a user can cause (a corrupt file, a bad request, a model that does not
fit) raises a subclass of :class:`GhostwrightError` with a message that names the file
or field and what is wrong. The server maps these to LSP errors at one boundary; the
command line prints them without a traceback.
"""

from __future__ import annotations


class GhostwrightError(Exception):
    """Base class: a failure with a message fit to show a user as it is."""


class ModelSourceError(GhostwrightError):
    """A GGUF file or Hugging Face folder is unreadable, corrupt or incomplete."""


class UnsupportedModelError(GhostwrightError):
    """The weights are readable but describe something we cannot export."""


class BundleError(GhostwrightError):
    """A model bundle on disk is missing files, corrupt, or from another format version."""


class EngineError(GhostwrightError):
    """The inference engine could not start or could not serve a request."""


class RequestError(GhostwrightError):
    """A request is malformed: the caller must change it, retrying will not help."""
