"""The one Clever client: a plain Python package (no Django app, no ORM).

- ``endpoints``: every Clever URL path, each with its documentation link.
- ``transport``: the one keep-alive HTTP pool (timeouts, CA bundle, proxies) every call goes
  through; the only place a request to Clever goes out.
- ``errors``: one exception family (transient / permanent / unauthorized / rate-limited / ...).
- ``records``: typed records SSO and the sync share, and the parsers that build them.
- ``grades``, ``usertypes``: Clever's grade list and user-type names, defined once.
- ``identity`` (OAuth 2.0, OpenID Connect, ``/me``) and ``data_api`` (pages, token list,
  events): the two facades the apps call.
"""
