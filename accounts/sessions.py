"""A person's portal sessions and the `sid` their ID tokens carry (issue 11).

Contract used by other parts (keep these names and signatures):
- `session_sid(request) -> str`: the OpenID Connect session id of this portal session (the
  `sid` claim), stable for the session's life, new after each login (the session key cycles).
"""

import uuid

SID_KEY = "atrium_sid"


def session_sid(request) -> str:
    sid = request.session.get(SID_KEY)
    if not sid:
        sid = request.session[SID_KEY] = uuid.uuid4().hex
    return sid
