"""Keeps a portal session's "last seen" current (accounts/sessions.py), at most one write a
minute per session, so the sessions page shows when and from where each was last used."""

from accounts.sessions import user_session_touch


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # request.user is read only when a session cookie came: anonymous requests stay free.
        if request.session.session_key and request.user.is_authenticated:
            user_session_touch(request=request)
        return self.get_response(request)
