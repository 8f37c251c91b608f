"""Parse the OIDC signing key once per process, not once per token.

allauth.idp.oidc turns the configured PEM into a key object every time it signs or verifies a
token or serves the JWKS (`allauth.core.internal.jwkkit.load_jwk_from_pem`), and cryptography
validates an RSA private key on every load: 15-40 ms of CPU here, which became the largest cost of
a client-credentials grant once client secrets stopped going through the password hasher (an
authorization-code grant signs two tokens). Key objects are immutable and thread-safe, so the
result is cached per PEM text: a rotated key is a different PEM and is parsed on first use.

allauth has no adapter hook around that call (its callers reach it as a module attribute), so
`install()`, called once from `AccountsConfig.ready`, wraps it in a small cache.
"""

import copy
import functools

# Imported here, at start-up, on purpose: allauth reaches cryptography and PyJWT through lazy
# module proxies (allauth.core.internal.deferred) that import on first attribute access. Two
# gunicorn threads signing their first tokens at once then race inside that import and one gets
# "cannot access submodule 'serialization' ... (most likely due to a circular import)": a 500
# from the token endpoint, seen in `make demo`.
import cryptography.hazmat.primitives.asymmetric.rsa  # noqa: F401
import cryptography.hazmat.primitives.serialization  # noqa: F401
import jwt  # noqa: F401
from allauth.core.internal import jwkkit

_CACHED_KEYS = 8  # current, next and retiring keys of a rotation, with room to spare


def install() -> None:
    original = jwkkit.load_jwk_from_pem
    if getattr(original, "_atrium_cached", False):
        return
    cached = functools.lru_cache(maxsize=_CACHED_KEYS)(original)

    def load_jwk_from_pem(pem: str):
        jwk_dict, private_key = cached(pem)
        # Callers may add to the JWK dict (e.g. "use", "alg"): give each its own copy.
        return copy.deepcopy(jwk_dict), private_key

    load_jwk_from_pem._atrium_cached = True
    load_jwk_from_pem.cache_info = cached.cache_info
    jwkkit.load_jwk_from_pem = load_jwk_from_pem
