"""k-of-n confirmation: moving objects confirm once, stationary and erratic ones do not."""

from __future__ import annotations

from models.confirm import ConfirmConfig, Confirmer


def walk(conf: Confirmer, label: str, start_x: int, step: int, frames: int, t0: float = 0.0):
    out = []
    for i in range(frames):
        box = (start_x + i * step, 50, 20, 60)
        out += conf.update([(label, 0.9, box)], t0 + i * 0.2)
    return out


def test_a_walking_person_is_confirmed_once_with_a_track_id() -> None:
    conf = Confirmer(ConfirmConfig(k=3, n=5))
    found = walk(conf, "person", 0, 10, 10)
    assert len(found) == 1
    d = found[0]
    assert d["label"] == "person" and d["track"] == 1 and d["first_seen"] == 0.0
    assert d["score"] == 0.9 and len(d["box"]) == 4


def test_a_parked_car_does_not_alert() -> None:
    conf = Confirmer()
    found = []
    for i in range(30):
        found += conf.update([("vehicle", 0.95, (100, 40, 80, 30))], i * 0.2)
    assert found == []


def test_nuisance_votes_do_not_confirm() -> None:
    conf = Confirmer()
    assert walk(conf, "nuisance", 0, 10, 10) == []


def test_an_insect_jumping_around_is_not_one_track() -> None:
    conf = Confirmer()
    found = []
    for i in range(20):
        x = 20 if i % 2 else 250  # far apart every frame
        found += conf.update([("person", 0.9, (x, 40, 15, 15))], i * 0.2)
    assert found == []


def test_cooldown_per_label_then_alerts_again() -> None:
    conf = Confirmer(ConfirmConfig(cooldown_s=30))
    assert len(walk(conf, "person", 0, 10, 10, t0=0)) == 1
    assert walk(conf, "person", 0, 10, 10, t0=10) == []  # a new track inside the cooldown
    assert len(walk(conf, "animal", 0, 10, 10, t0=12)) == 1  # other label, own cooldown
    assert len(walk(conf, "person", 0, 10, 10, t0=50)) == 1


def test_k_must_fit_in_n() -> None:
    import pytest

    with pytest.raises(ValueError, match="k <= n"):
        ConfirmConfig(k=6, n=5)


def test_something_swinging_back_and_forth_does_not_confirm() -> None:
    conf = Confirmer(ConfirmConfig(min_travel=0.3, min_straightness=0.4))
    found = []
    for i in range(40):
        x = 100 + (8 if i % 4 < 2 else -8)  # a branch swinging about its place
        label = "nuisance" if i < 8 else "person"  # until the classifier is fooled
        found += conf.update([(label, 0.9, (x, 40, 20, 40))], i * 0.2)
    assert found == []
    assert conf.tracks[0].travel >= 0.3  # it did move far enough, but only to and fro


def walk_off_from_ghost(conf: Confirmer) -> list:
    """A person dawdles, then hurries off and out of view, leaving their ghost behind them.

    Where the person stood, the background still shows them: a nuisance region that stays
    put while the person's own region moves off.
    """
    found = []
    for i in range(4):
        found += conf.update([("person", 0.9, (200 - 4 * i, 50, 40, 100))], i * 0.2)
    for i in (4, 5):
        ghost = ("nuisance", 0.85, (190, 50, 45, 100))
        person = ("person", 0.9, (188 - 30 * (i - 3), 50, 40, 100))
        found += conf.update([ghost, person], i * 0.2)
    return found


def test_a_person_walking_off_from_their_ghost_keeps_their_track() -> None:
    found = walk_off_from_ghost(Confirmer())
    assert [(d["label"], d["track"]) for d in found] == [("person", 1)]


def test_without_the_relabel_cost_the_ghost_takes_the_track() -> None:
    assert walk_off_from_ghost(Confirmer(ConfirmConfig(relabel_cost=0))) == []


def test_a_track_that_alerted_for_a_car_still_alerts_for_the_person_it_then_follows() -> None:
    # The person walks off from beside the car, close enough that their regions continue
    # the car's track; before, a track alerted once whatever the label, and they were lost.
    conf = Confirmer(ConfirmConfig(k=2, n=5))
    found = []
    for i in range(12):
        label = "vehicle" if i < 5 else "person"
        box = (10 + i * 12, 50, 60, 40) if i < 5 else (60 + i * 10, 40, 20, 50)
        found += conf.update([(label, 0.9, box)], i * 0.2)
    assert [(d["label"], d["track"]) for d in found] == [("vehicle", 1), ("person", 1)]


def test_a_person_walking_off_from_a_large_region_gets_a_track_of_their_own() -> None:
    # A lamp's glow over most of the frame, then a person walking off near it: the person
    # must not inherit the glow's track (its path and origin would judge their walk).
    conf = Confirmer(ConfirmConfig(k=2, n=5))
    conf.update([("nuisance", 0.9, (100, 0, 400, 300))], 0.0)
    found = []
    for i in range(8):
        found += conf.update([("person", 0.9, (300 + 12 * i, 120, 20, 50))], 0.2 + i * 0.2)
    assert [(d["label"], d["track"]) for d in found] == [("person", 2)]
