from django.apps import AppConfig


class GoliveConfig(AppConfig):
    """Readiness to serve districts: checklist, connections, launch, certification report."""

    name = "golive"

    def ready(self) -> None:
        from golive.services import launch_gate
        from sso.gates import login_gate_register

        # Launch gates SSO (never Secure Sync): SSO asks its gates; golive adds this one.
        login_gate_register(launch_gate)
