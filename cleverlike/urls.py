from __future__ import annotations

from django.urls import path

from cleverlike import api, oauth, pages

app_name = "cleverlike"

urlpatterns = [
    path("", pages.index, name="index"),
    path("portal", pages.portal, name="portal"),
    path("portal/", pages.portal),
    path("portal/launch", pages.portal_launch, name="portal_launch"),
    path("oauth/authorize", oauth.authorize, name="authorize"),
    path("oauth/instant-login", oauth.instant_login, name="instant_login"),
    path("oauth/tokens", oauth.tokens, name="tokens"),
    path("oauth/jwks", oauth.jwks, name="jwks"),
    path(".well-known/openid-configuration", oauth.discovery, name="discovery"),
    path("userinfo", api.userinfo, name="userinfo"),
    path("v3.0/<path:rest>", api.data_api, name="data_api"),
]
