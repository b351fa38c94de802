"""Read-API tokens, one per practice, derived from AFTERCARE_API_TOKEN so that nothing new is stored.

A practice's token is `<slug>.<40 hex>`: an HMAC-SHA256 of the slug under the installation's token.
It opens the read API for that practice only. Rotating AFTERCARE_API_TOKEN rotates every practice's
token at once. The installation token itself stands for a practice only where there is just one, so a
single-practice deployment keeps working with it and a shared one cannot read across practices.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlmodel import Session, select

from store.models import Practice


def practice_token(master: str, slug: str) -> str:
    """The read-API token of the practice with this slug."""
    mac = hmac.new(master.encode(), f"read-api:{slug}".encode(), hashlib.sha256).hexdigest()[:40]
    return f"{slug}.{mac}"


class TokenRefused(Exception):
    """A bearer token that opens nothing; the message says why, without echoing the token."""


def practice_for_token(session: Session, master: str, token: str) -> Practice:
    """The practice a bearer token opens, or TokenRefused."""
    if not token:
        raise TokenRefused("missing or wrong bearer token")
    if hmac.compare_digest(token.encode(), master.encode()):
        practices = session.exec(select(Practice).limit(2)).all()
        if len(practices) == 1:
            return practices[0]
        raise TokenRefused(
            "AFTERCARE_API_TOKEN opens the read API only where there is one practice: "
            "use the practice's own token (`aftercare practice --practice SLUG api-token`)"
        )
    slug, _, _ = token.rpartition(".")
    if slug and hmac.compare_digest(practice_token(master, slug).encode(), token.encode()):
        practice = session.exec(select(Practice).where(Practice.slug == slug)).first()
        if practice is not None:
            return practice
    raise TokenRefused("missing or wrong bearer token")
