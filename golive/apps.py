from django.apps import AppConfig


class GoliveConfig(AppConfig):
    """Readiness to serve districts: checklist, connections, launch, certification report."""

    name = "golive"
