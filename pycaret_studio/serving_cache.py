"""The predict path's in-process cache (`CACHES["serving"]`): an API key's owner and scopes
(accounts.auth), the owner's role in a workspace (accounts.access) and a deployment by slug
(engine.selectors.deployments), each kept for STUDIO_SERVING_CACHE_S seconds."""

from django.core.cache import caches
from django.db import transaction


def serving_cache_forget(*cache_keys: str) -> None:
    """Drop entries from this process's serving cache now, and again once the transaction
    commits: a request in between may have cached the row as it was before the change. Other
    processes see the change within STUDIO_SERVING_CACHE_S."""
    if not cache_keys:
        return
    cache = caches["serving"]
    cache.delete_many(cache_keys)
    transaction.on_commit(lambda: cache.delete_many(cache_keys))
