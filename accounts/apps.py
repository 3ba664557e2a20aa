from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who can log in: the user model, keyed by Clever ID for Clever users."""

    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import last_login_update

        # Replaces django.contrib.auth's receiver (same dispatch_uid), which goes through
        # save(update_fields=["last_login"]): the same one-column UPDATE at twice the Python, and
        # no pre_save/post_save signals for User on login (nothing listens to them). Runs on
        # every login, ours and the admin's.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(last_login_update, dispatch_uid="update_last_login")
