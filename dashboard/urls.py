"""The dashboard's pages, mounted at the site root (config/urls.py)."""

from django.urls import path

from dashboard.views import accounts, files, jobs, live, retry, staff, team, upload

app_name = "dashboard"

urlpatterns = [
    path("", jobs.my_jobs, name="jobs"),
    path("upload/", upload.upload, name="upload"),
    path("team/", team.team, name="team"),
    path("team/switch", team.team_switch, name="team-switch"),
    path("jobs/zip", files.jobs_zip, name="jobs-zip"),
    path("jobs/retry-failed", retry.retry_failed, name="jobs-retry-failed"),
    path("jobs/<uuid:job_id>/", jobs.job_detail, name="job"),
    path("jobs/<uuid:job_id>/retry", jobs.job_retry, name="job-retry"),
    path("jobs/<uuid:job_id>/cancel", jobs.job_cancel, name="job-cancel"),
    path("jobs/<uuid:job_id>/<str:kind>", files.job_file, name="job-file"),
    path("live/jobs", live.my_jobs_live, name="live-jobs"),
    path("live/jobs/<uuid:job_id>", live.job_live, name="live-job"),
    path("live/team", live.team_live, name="live-team"),
    path("live/staff", staff.summary_live, name="live-staff"),
    path("accounts/login/", accounts.login, name="login"),
    path("accounts/logout/", accounts.logout, name="logout"),
    path("accounts/password/", accounts.password_change, name="password-change"),
    path("staff/summary/", staff.summary, name="staff-summary"),
]
