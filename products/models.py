# The catalog, availability per region, entitlements and trials arrive with their issue.
