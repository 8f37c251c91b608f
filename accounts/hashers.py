"""Password hashing: Argon2id with OWASP's second recommended setting (the one Keycloak uses):
7 MiB of memory, 5 iterations, one lane. About 14 ms per hash on this machine's cores, so a
login costs a bounded, predictable slice of CPU while offline guessing stays memory-hard.

Django upgrades a stored hash at the next successful login when its hasher is not the first
in PASSWORD_HASHERS (PBKDF2 hashes from before) or its parameters differ (`must_update`).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    # Same algorithm name as Django's hasher ("argon2"): the stored string is the standard
    # encoding ($argon2id$v=19$m=7168,t=5,p=1$...), so it verifies with any Argon2 library.
    time_cost = 5
    memory_cost = 7 * 1024  # KiB
    parallelism = 1
