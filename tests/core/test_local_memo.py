import pytest
from django.core.cache import cache

from core import local_memo
from core.local_memo import MISSING, LocalMemo


def test_a_value_lives_for_its_seconds_then_is_missing(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(local_memo.time, "monotonic", lambda: now[0])
    memo = LocalMemo(seconds=5)
    memo.set("k", 7)
    assert memo.get("k") == 7
    now[0] = 104.9
    assert memo.get("k") == 7
    now[0] = 105.1
    assert memo.get("k") is MISSING


def test_forget_clear_all_and_the_size_bound():
    memo = LocalMemo(seconds=60, max_entries=2)
    memo.set("a", 1)
    memo.forget("a")
    assert memo.get("a") is MISSING
    memo.set("a", 1)
    memo.set("b", 2)
    memo.set("c", 3)  # over the bound: the memo starts afresh rather than grow
    assert memo.get("a") is MISSING
    assert memo.get("c") == 3
    local_memo.clear_all()
    assert memo.get("c") is MISSING


@pytest.mark.redis
def test_the_redis_cache_reuses_one_client_per_pool():
    from django.core.cache import caches

    default = caches["default"]
    assert type(default).__name__ == "ResilientRedisCache"
    backend = default._cache
    assert backend.get_client() is backend.get_client()
    cache.set("local-memo-probe", 1)
    assert cache.get("local-memo-probe") == 1
