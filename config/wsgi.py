import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Cheap (one folder listing): clear what web workers killed mid-upload left
# before this start (gunicorn starts a new worker at once when one is
# killed), rather than waiting for the periodic purge.
from operations.temp_uploads import temp_uploads_purge  # noqa: E402 - needs the app loaded

temp_uploads_purge(dead_owners=True)
