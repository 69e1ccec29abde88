"""Which KV slot a prompt lands in: its own document's, not one that shares a short head."""

from __future__ import annotations

from ghostwright.inference.kv_cache import SlotPool


def pool(max_slots: int) -> SlotPool:
    return SlotPool(lambda: None, max_slots, 64)  # type: ignore[arg-type, return-value]


def run(p: SlotPool, prompt: list[int]) -> tuple[int, int]:
    slot, reuse = p.acquire(prompt)  # type: ignore[misc]
    slot.tokens[reuse:] = prompt
    p.release(slot)
    return slot.index, reuse


def test_editors_sharing_a_short_head_each_keep_their_own_slot():
    p = pool(3)
    a, b = [1, 2, *range(10, 30)], [1, 2, *range(40, 60)]  # same two head tokens, different documents
    assert run(p, a) == (0, 0)
    assert run(p, b) == (1, 0)  # a miss: a new slot, A's context kept
    assert run(p, [*a, 99]) == (0, len(a))  # each keystroke reuses its own document
    assert run(p, [*b, 98]) == (1, len(b))


def test_a_full_pool_evicts_the_least_recently_used_and_still_reuses_what_it_shares():
    p = pool(2)
    docs = [[7, *range(k * 100, k * 100 + 20)] for k in range(3)]
    run(p, docs[0])
    run(p, docs[1])
    run(p, [*docs[0], 5])  # doc 0 used again: doc 1 is now the least recent
    assert run(p, docs[2]) == (1, 1)  # doc 1's slot, the shared head token kept


def test_typing_back_over_a_prompt_is_a_hit_and_all_busy_is_none():
    p = pool(1)
    run(p, list(range(40)))
    assert run(p, list(range(25))) == (0, 24)  # one token always runs to give logits
    assert p.acquire([1, 2, 3]) is not None
    assert p.acquire([1, 2, 3]) is None


def test_kv_pages_are_counted_as_they_are_first_written_and_never_past_the_buffers() -> None:
    """The soak tells a filling cache from a leak by these counts: they must follow the writes."""
    import numpy as np

    from ghostwright.inference.kv_cache import KVCache

    churn = np.ones(2**22)  # a freed 32 MB block raises glibc's mmap threshold, and 128 MB of
    del churn  # freed 2 MB arrays leave resident heap that a calloc'd buffer would reuse
    heap = [np.ones(2**18) for _ in range(64)]
    del heap
    cache = KVCache.allocate(2, 2, 64, 4096, np.float32, "cpu")
    bound = KVCache.nbytes(2, 2, 64, 4096, np.float32)
    before = cache.resident_bytes()
    assert before == 0  # its own mapping: no page is resident before it is written
    for buffer in (*cache.keys, *cache.values):
        buffer.numpy()[:, :, :1024] = 1.0  # a quarter of every head's positions
    grown = cache.resident_bytes() - before
    assert bound // 4 - 64 * 4096 <= grown <= bound // 4 + 64 * 4096, (grown, bound)
    for buffer in (*cache.keys, *cache.values):
        buffer.numpy()[:] = 1.0
    assert bound - 8 * 4096 <= cache.resident_bytes() <= bound + 8 * 4096


def test_a_prompt_whose_own_slot_is_busy_waits_for_it_instead_of_prefilling_a_copy():
    p = pool(3)
    doc = list(range(40))
    run(p, doc)
    held, _ = p.acquire([*doc, 1])  # the request the next keystroke supersedes, not yet stopped
    releases = p.releases
    assert p.acquire([*doc, 1, 2]) is None  # not a new slot with nothing reused
    assert p.acquire(list(range(100, 140))) is not None  # another document goes on
    p.release(held)
    assert p.releases == releases + 1
    slot, reuse = p.acquire([*doc, 1, 2])  # type: ignore[misc]
    assert slot is held and reuse == len(doc)


def test_a_document_whose_context_changed_takes_its_own_slot_not_a_new_one():
    p = pool(3)
    head = [1, 2]
    other = [*head, *range(500, 540)]
    assert p.acquire(other, "b.py") is not None
    p.release(p.slots[0])
    p.slots[0].tokens[:] = other
    for context in range(3):  # a.py's context gathered anew three times (three pauses)
        prompt = [*head, *range(100 * (context + 1), 100 * (context + 1) + 40)]
        slot, reuse = p.acquire(prompt, "a.py")  # type: ignore[misc]
        slot.tokens[reuse:] = prompt
        p.release(slot)
    assert len(p.slots) == 2 and p.slots[0].tokens == other  # b.py's context kept, a.py in one slot
