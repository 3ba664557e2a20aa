"""The Content-Security-Policy our pages pass (django-csp builds the header from it).

Nothing runs or styles a page but our own static files: ``<style>`` blocks in our templates
carry the request's nonce (``{{ request.csp_nonce }}``). Two blocks are rendered where no
request nonce can reach them, so the policy allows exactly their bytes by hash: our
``500.html`` (rendered without a request, when something failed) and Django admin's
change list (a one-rule block it adds to lists without actions). Should either template change,
its hash changes with it, since both are read from the files themselves.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import django
from csp.constants import NONCE, NONE, SELF

_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)

# Templates whose <style> blocks cannot carry a nonce.
UNNONCED_TEMPLATES = [
    Path(__file__).resolve().parent.parent / "templates" / "500.html",
    Path(django.__file__).parent / "contrib" / "admin" / "templates" / "admin" / "change_list.html",
]


def style_hashes(paths: list[Path]) -> list[str]:
    """CSP source expressions ('sha256-...') for every <style> block of these templates."""
    hashes = []
    for path in paths:
        for block in _STYLE_BLOCK.findall(path.read_text()):
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            hashes.append(f"'sha256-{digest}'")
    return hashes


def policy(*, exclude_url_prefixes: list[str]) -> dict[str, object]:
    """django-csp's CONTENT_SECURITY_POLICY for this product."""
    return {
        "EXCLUDE_URL_PREFIXES": exclude_url_prefixes,
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF, NONCE],
            "style-src": [SELF, NONCE, *style_hashes(UNNONCED_TEMPLATES)],
            "img-src": [SELF, "data:"],
            "font-src": [SELF],
            "connect-src": [SELF],
            "object-src": [NONE],
            "base-uri": [NONE],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        },
    }
