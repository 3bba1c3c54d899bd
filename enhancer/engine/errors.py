"""Exceptions raised by the engine.

Every exception carries a `message`: one sentence that tells the user what was
wrong with their input and what to do about it. The API shows it verbatim, so
it never contains internal details (paths, stack traces, library names).
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    default_message = "The image could not be enhanced."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class ModelUnavailable(EngineError):
    """A model file the configuration asks for is missing or unusable (an operator problem)."""

    default_message = "The face enhancement model is not available on this server."


class InvalidOption(EngineError):
    """An enhancement option or an engine setting is out of range.

    `field` names the option as the API spells it ("ariaRatio", "maxFaceCount",
    "fidelity") or, for an engine setting, the EngineConfig field.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class ImageRejected(EngineError):
    """Base of every refusal to decode an uploaded image."""

    default_message = "The file could not be read as an image."


class EmptyImage(ImageRejected):
    default_message = "The file is empty; upload a JPEG, PNG or WebP image."


class UnsupportedFormat(ImageRejected):
    default_message = "The file is not a JPEG, PNG or WebP image; convert it to one of those."


class CorruptImage(ImageRejected):
    default_message = (
        "The image is damaged or incomplete (for example a partial upload); "
        "upload the complete file again."
    )


class ImageTooLarge(ImageRejected):
    default_message = "The image has too many pixels; reduce its dimensions and try again."


class AnimatedImage(ImageRejected):
    default_message = (
        "Animated images are not supported; upload a single still frame as JPEG, PNG or WebP."
    )
