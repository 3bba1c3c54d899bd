"""Forms of the dashboard: the upload's parameters and images, the admin's connection."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxValueValidator
from django.template.defaultfilters import filesizeformat

from dashboard.models import ApiConnection
from enhancer.api.uploads import image_header
from enhancer.engine import ImageRejected

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

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # The cap is a setting, read when the form is made so that tests may change it.
        cap = settings.FACE_ENHANCER_MAX_FACE_COUNT
        field = self.fields["max_face_count"]
        field.max_value = cap
        field.validators = [v for v in field.validators if not isinstance(v, MaxValueValidator)] + [
            MaxValueValidator(cap)
        ]
        field.widget.attrs.update({"min": 1, "max": cap})
        field.help_text += f" From 1 to {cap}."


def image_problem(upload: UploadedFile) -> str | None:
    """Why an uploaded file cannot be enhanced, in words for a person, or None.

    The bytes decide, never the name or the browser's content type: the API's
    own header check (format, dimensions, frames, the pixel limit), so a file
    accepted here is one the API accepts too. Its pixels are not decoded in the
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
    try:
        image_header(data, max_pixels=settings.FACE_ENHANCER_MAX_PIXELS)
    except ImageRejected as e:
        return e.message
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

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
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

    def _post_clean(self) -> None:
        # Blank on change means "keep": put the stored value back before the
        # model instance is updated from the cleaned data.
        if self.instance.pk is not None:
            stored = ApiConnection.objects.get(pk=self.instance.pk)
            for name in self.SECRETS:
                if not self.cleaned_data.get(name):
                    self.cleaned_data[name] = getattr(stored, name)
        super()._post_clean()
