"""Log in, log out (POST only) and password change, on Django's auth views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpResponse
from django.urls import reverse_lazy

login = auth_views.LoginView.as_view(
    template_name="registration/login.html",
    redirect_authenticated_user=True,
    next_page=reverse_lazy("dashboard:jobs"),
)

# LogoutView answers POST only: a link or an image tag cannot log anyone out.
logout = auth_views.LogoutView.as_view(next_page=reverse_lazy("dashboard:login"))


class _PasswordChangeView(auth_views.PasswordChangeView):
    # Not Django's default template names: those would also restyle the admin's own page.
    template_name = "registration/change_password.html"
    success_url = reverse_lazy("dashboard:jobs")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


password_change = login_required(_PasswordChangeView.as_view())
