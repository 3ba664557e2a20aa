from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from config.checks import refuse_unsafe_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# WSGI servers run no system checks: weak production settings stop the app here, by name.
refuse_unsafe_settings()
