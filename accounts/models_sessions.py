"""A person's portal sessions: device, address, last seen, the `sid` their ID tokens carry
(issue 11; accounts/sessions.py writes them).

Imported at the end of accounts/models.py, so these are models of the `accounts` app."""

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["UserSession"]


class UserSession(models.Model):
    """One portal sign-in, from login until logout or revocation. The Django session row is
    the credential (deleting it is what ends the session); this row is what the person sees
    on /profile/sessions/ and the `sid` that regions' sessions are tied to."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_sessions"
    )
    session_key = models.CharField(max_length=40, db_index=True)
    sid = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        indexes = [models.Index(fields=["user", "ended_at"], name="user_session_active_idx")]

    def __str__(self) -> str:
        return f"session of {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
