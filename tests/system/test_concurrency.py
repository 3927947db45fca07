"""Issue 6, item 3: concurrent bookings under gunicorn and PostgreSQL lose nothing and double-book nothing."""

import datetime as dt
import os
import random
import threading
import time
from collections import Counter

from tests.system.helpers import (
    CONFLICT,
    OK,
    Api,
    Tally,
    appointment_rows,
    bookings_consistent,
    overlapping_pairs,
    patients_by_id_number,
    race,
    report,
    today,
)

WORKERS = 4  # as `make serve` by default
ROUNDS = 20
CONTENDERS = 50
MIXED_SECONDS = float(os.environ.get("HIS_RELIABILITY_MIXED_SECONDS", "60"))


def check_race(system_db, api: Api, tally: Tally, rounds, slots) -> list[str]:
    """The assertions shared with the scale-out test; the winners' appointment lids."""
    for n, answers in enumerate(rounds):
        kinds = Counter(answer.kind for answer in answers)
        assert kinds == {OK: 1, CONFLICT: CONTENDERS - 1}, f"round {n} ({slots[n]}): {kinds}"
        assert {answer.status for answer in answers if answer.kind == CONFLICT} == {409}
        assert all(answer.payload["ADD_RESULT"] == "ERROR" for answer in answers if answer.kind == CONFLICT)
    winners = {answer.payload["APP_LID"]: id_number for id_number, answer in tally.bookings if answer.kind == OK}
    assert len(winners) == ROUNDS

    rows = appointment_rows(system_db.url, winners)
    assert {lid: row for lid, row in rows.items()} == {lid: ("APPROVED", who) for lid, who in winners.items()}
    # Only the winners were registered: 980 refused requests left no patient.
    sent = [id_number for id_number, _ in tally.bookings]
    registered = patients_by_id_number(system_db.url, sent)
    assert set(registered) == set(winners.values())
    assert all(len(holdings) == 1 for holdings in registered.values())
    assert overlapping_pairs(system_db.url) == []
    assert bookings_consistent(system_db.url, tally) == []
    return list(winners)


def test_fifty_simultaneous_bookings_of_one_slot_book_it_exactly_once_in_each_of_twenty_rounds(start_server, system_db):
    server = start_server(workers=WORKERS)
    api = Api(server.url, system_db.secret)
    slots = api.slots(day=today() + dt.timedelta(days=2), count=ROUNDS)
    assert len(set(slots)) == ROUNDS

    started = time.monotonic()
    tally, rounds = race(api=api, urls=[server.url], slots=slots, contenders=CONTENDERS, prefix="RACE")
    elapsed = time.monotonic() - started

    check_race(system_db, api, tally, rounds, slots)
    report(
        f"item 3 race, 1 instance x {WORKERS} workers: {ROUNDS} rounds x {CONTENDERS} simultaneous requests = "
        f"{tally.total()} requests in {elapsed:.1f}s -> {dict(tally.kinds())}; bookings: {ROUNDS}"
    )


def test_a_minute_of_parallel_searches_bookings_and_cancellations_leaves_every_answer_true(start_server, system_db):
    server = start_server(workers=WORKERS)
    api = Api(server.url, system_db.secret)
    first_day = today() + dt.timedelta(days=5)
    tally = Tally()
    booked: list[str] = []
    booked_lock = threading.Lock()
    deadline = time.monotonic() + MIXED_SECONDS
    failures: list[BaseException] = []

    def booker(n: int) -> None:
        rng = random.Random(n)
        k = 0
        while time.monotonic() < deadline:
            found = api.search(day=first_day, days=2, results=20)
            tally.add("search", found)
            if found.kind != OK or not found.body["return"]:
                continue
            # Among the first few free slots, so that bookers collide often.
            slot = rng.choice(found.body["return"][:8])["AVAILABILITY_LID"]
            k += 1
            id_number = f"MIX{n:02d}{k:05d}"
            answer = api.book(slot=slot, id_number=id_number)
            tally.add("book", answer, id_number=id_number)
            if answer.kind == OK:
                with booked_lock:
                    booked.append(answer.payload["APP_LID"])

    def canceller(n: int) -> None:
        rng = random.Random(100 + n)
        while time.monotonic() < deadline:
            with booked_lock:
                lid = booked.pop(rng.randrange(len(booked))) if len(booked) > 3 else None
            if lid is None:
                time.sleep(0.05)
                continue
            tally.add("cancel", api.cancel(app_lid=lid), app_lid=lid)

    def searcher(n: int) -> None:
        rng = random.Random(200 + n)
        while time.monotonic() < deadline:
            tally.add("search", api.search(day=first_day + dt.timedelta(days=rng.randrange(4)), days=3))

    def guarded(target, n):
        def run():
            try:
                target(n)
            except BaseException as exc:  # a crashed load thread must fail the test, not vanish
                failures.append(exc)

        return threading.Thread(target=run, daemon=True)

    threads = [guarded(booker, n) for n in range(4)]
    threads += [guarded(canceller, n) for n in range(2)]
    threads += [guarded(searcher, n) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=MIXED_SECONDS + 60)
    assert not any(thread.is_alive() for thread in threads), "a load thread did not stop"
    assert failures == []

    kinds = tally.kinds()
    assert set(kinds) <= {OK, CONFLICT}, tally.summary()  # no 5xx, no lost connection, nothing outside the envelope
    assert tally.counts[("book", OK)] > 0 and tally.counts[("book", CONFLICT)] > 0, tally.summary()
    assert tally.counts[("cancel", OK)] > 0, tally.summary()
    assert ("search", CONFLICT) not in tally.counts and ("cancel", CONFLICT) not in tally.counts
    assert overlapping_pairs(system_db.url) == []
    assert bookings_consistent(system_db.url, tally) == []
    report(
        f"item 3 mixed run, 1 instance x {WORKERS} workers, 8 client threads, {MIXED_SECONDS:.0f}s: "
        f"{tally.total()} requests -> {tally.summary()}; overlaps 0, inconsistencies 0"
    )
