"""Forms of the dashboard: the upload's parameters and images, the admin's connection."""

from __future__ import annotations

import io
import warnings
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxValueValidator
from django.template.defaultfilters import filesizeformat
from PIL import Image

from dashboard.models import ApiConnection

ACCEPTED_TYPES = "image/jpeg,image/png,image/webp"


class UploadForm(forms.Form):
    """The parameters sent with every image of one upload (the API's defaults)."""

    aria_ratio = forms.FloatField(
        label="Area around each face",
        min_value=0.0,
        max_value=1.0,
        initial=0.5,
        help_text=(
            "How much of the area around each face is enhanced: 0 is the face alone "
            "(brows to chin, cheek to cheek), 1 is the whole head with the hair."
        ),
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
    )
    max_face_count = forms.IntegerField(
        label="Faces to enhance at most",
        min_value=1,
        initial=10,
        help_text="The largest faces first; the rest of the picture is left as it is.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The cap is a setting, read when the form is made so that tests may change it.
        cap = settings.FACE_ENHANCER_MAX_FACE_COUNT
        field = self.fields["max_face_count"]
        assert isinstance(field, forms.IntegerField)
        field.max_value = cap
        field.validators = [v for v in field.validators if not isinstance(v, MaxValueValidator)] + [
            MaxValueValidator(cap)
        ]
        field.widget.attrs.update({"min": 1, "max": cap})
        field.help_text += f" From 1 to {cap}."


def image_problem(upload: UploadedFile) -> str | None:
    """Why an uploaded file cannot be enhanced, in words for a person, or None.

    The bytes decide, never the name or the browser's content type: the same
    header check as the API's (format, dimensions, frames, the pixel limit), in
    its words, so a file accepted here is one the API accepts too. Its pixels are not decoded in the
    web process; a file damaged past its header fails in the worker, saying so.
    """
    limit = settings.FACE_ENHANCING_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:
        return (
            f"The file is {filesizeformat(upload.size)}; the limit is "
            f"{filesizeformat(limit)}. Save it smaller (for example as JPEG) and try again."
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return header_problem(data, max_pixels=settings.FACE_ENHANCER_MAX_PIXELS)


# The API's own words for each refusal (its engine's ImageRejected messages), and
# below the same signature table as enhancer/engine/decoding.py: copies on purpose,
# since the dashboard does not import the engine and deploys without numpy or OpenCV.
EMPTY = "The file is empty; upload a JPEG, PNG or WebP image."
NOT_AN_IMAGE = "The file is not a JPEG, PNG or WebP image; convert it to one of those."
OTHER_FORMAT = (
    "The file is {} image; only JPEG, PNG and WebP are supported, convert it to one of those."
)
DAMAGED = (
    "The image is damaged or incomplete (for example a partial upload); "
    "upload the complete file again."
)
TOO_LARGE = "and the limit is {:.1f} MP; reduce its dimensions and try again."
ANIMATED = "Animated images are not supported; upload a single still frame as JPEG, PNG or WebP."
_OTHER_SIGNATURES = (
    (b"GIF87a", "a GIF"),
    (b"GIF89a", "a GIF"),
    (b"BM", "a BMP"),
    (b"II*\x00", "a TIFF"),
    (b"MM\x00*", "a TIFF"),
    (b"%PDF", "a PDF"),
)


def header_problem(data: bytes, *, max_pixels: int) -> str | None:
    """What is wrong with an image by its header alone, as the API would say it, or None.

    The magic bytes name the format; Pillow's Image.open reads only the header
    (load() is never called), for the dimensions and the frames.
    """
    if not data:
        return EMPTY
    if data.startswith(b"\xff\xd8\xff"):
        fmt = "JPEG"
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        fmt = "PNG"
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        fmt = "WEBP"
    else:
        other = next((name for magic, name in _OTHER_SIGNATURES if data.startswith(magic)), None)
        return OTHER_FORMAT.format(other) if other else NOT_AN_IMAGE
    with warnings.catch_warnings():
        # Pillow's bomb and metadata warnings: the limit below is ours.
        warnings.simplefilter("ignore")
        try:
            image = Image.open(io.BytesIO(data), formats=[fmt])
        except Image.DecompressionBombError:
            # Pillow's own hard limit (~178 MP), above any limit of ours.
            return "The image has more than 178 MP " + TOO_LARGE.format(max_pixels / 1e6)
        except Exception:  # the right magic bytes, an unreadable header
            return DAMAGED
        width, height = image.size
        if width < 1 or height < 1:
            return DAMAGED
        if width * height > max_pixels:
            return f"The image is {width}x{height} pixels ({width * height / 1e6:.1f} MP) " + (
                TOO_LARGE.format(max_pixels / 1e6)
            )
        if getattr(image, "is_animated", False) or getattr(image, "n_frames", 1) > 1:
            return ANIMATED
    return None


class ApiConnectionAdminForm(forms.ModelForm):
    """The secrets are write-only: a new value replaces the stored one, blank keeps it.

    The stored values are never put into the page, not even as a masked
    placeholder, so viewing the form cannot leak them.
    """

    SECRETS = ("api_key", "api_secret", "jwt_private_key")

    base_url = forms.URLField(
        label="Base URL",
        required=False,
        assume_scheme="https",
        help_text=ApiConnection._meta.get_field("base_url").help_text,
    )

    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    api_secret = forms.CharField(
        label="API secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    jwt_private_key = forms.CharField(
        label="JWT private key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = ApiConnection
        fields = ("name", "base_url", "application_id", "api_key", "api_secret", "jwt_private_key")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        for name in self.SECRETS:
            field = self.fields[name]
            # ModelForm filled the decrypted value in as initial data: drop it.
            self.initial.pop(name, None)
            field.initial = None
            field.required = creating
            field.help_text = (
                "Required." if creating else "Stored and hidden. Leave blank to keep it."
            )

    # django-stubs do not declare ModelForm._post_clean, the hook that updates the instance.
    def _post_clean(self) -> None:
        # Blank on change means "keep": put the stored value back before the
        # model instance is updated from the cleaned data.
        if self.instance.pk is not None:
            stored = ApiConnection.objects.get(pk=self.instance.pk)
            for name in self.SECRETS:
                if not self.cleaned_data.get(name):
                    self.cleaned_data[name] = getattr(stored, name)
        super()._post_clean()  # type: ignore[misc]  # not declared by django-stubs (see above)
