from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from config.checks import refuse_unsafe_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
# ASGI servers run no system checks: weak production settings stop the app here, by name.
refuse_unsafe_settings()
