from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who can log in: the user model, keyed by Clever ID for Clever users."""

    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import last_login_update

        # Replaces django.contrib.auth's receiver (same dispatch_uid), which saves the whole model
        # instance through the ORM for one column; this runs on every login, ours and the admin's.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(last_login_update, dispatch_uid="update_last_login")
