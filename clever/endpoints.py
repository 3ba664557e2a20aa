"""Every Clever URL path we call, each with the page of Clever's docs that defines it.

Paths are relative to ``CLEVER_OAUTH_BASE_URL`` (OAuth, OIDC) or ``CLEVER_API_BASE_URL`` (Data
API); nothing else in the project spells a Clever path.
"""

from __future__ import annotations

API_VERSION = "v3.0"

# --- OAuth 2.0 / OpenID Connect (CLEVER_OAUTH_BASE_URL) ----------------------------------------

# https://dev.clever.com/docs/oauth-implementation
AUTHORIZE = "/oauth/authorize"
# Code exchange (POST) and, with the app's credentials, the district-token list (GET):
# https://dev.clever.com/reference/gettokens, https://dev.clever.com/docs/onboarding
TOKENS = "/oauth/tokens"
# https://dev.clever.com/docs/oidc-implementation
OIDC_DISCOVERY = "/.well-known/openid-configuration"

# --- Data API v3.0 (CLEVER_API_BASE_URL) ----------------------------------------------------------

# https://dev.clever.com/docs/oauth-implementation (who the user token belongs to)
ME = f"/{API_VERSION}/me"
# https://dev.clever.com/docs/districts
DISTRICT = f"/{API_VERSION}/districts/{{id}}"
# https://dev.clever.com/docs/schools
SCHOOLS = f"/{API_VERSION}/schools"
# https://dev.clever.com/docs/terms
TERMS = f"/{API_VERSION}/terms"
# https://dev.clever.com/docs/courses
COURSES = f"/{API_VERSION}/courses"
# https://dev.clever.com/docs/users
USERS = f"/{API_VERSION}/users"
USER = f"/{API_VERSION}/users/{{id}}"
# https://dev.clever.com/reference/getsectionsforuser (a user's sections, as student or teacher)
USER_SECTIONS = f"/{API_VERSION}/users/{{id}}/sections"
# https://dev.clever.com/docs/sections
SECTIONS = f"/{API_VERSION}/sections"
# https://dev.clever.com/docs/events-api
EVENTS = f"/{API_VERSION}/events"
