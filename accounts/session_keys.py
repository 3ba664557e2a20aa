"""What a logged-in person's session says about their login, beyond Django's own keys.

Here, in the bottom layer (accounts owns who is logged in), so the app that writes a key and the
ones that read it all import it without a cycle.
"""

from __future__ import annotations

# Set by sso at login, read by the home page: the type this session logged in as (teacher,
# student, staff, ...).
LOGIN_TYPE_SESSION_KEY = "clever_login_type"
