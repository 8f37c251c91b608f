"""Back-channel logout bookkeeping: logout tokens already used (`jti`), so a replay is refused
(issue 11).

Imported at the end of atrium_kit/models.py, so these are models of this app ("tenants")."""

from django.db import models
from django.utils import timezone

__all__ = ["LogoutTokenUse"]


class LogoutTokenUse(models.Model):
    """A logout token this region has acted on. Kept until the token could no longer pass the
    `iat` window anyway (`keep_until`), then pruned, so the table stays small."""

    jti = models.CharField(max_length=255, unique=True)
    used_at = models.DateTimeField(default=timezone.now)
    keep_until = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"logout token {self.jti}"
