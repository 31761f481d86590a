"""The anomaly detector on simulated weeks: quiet on daily cycles, fast on the injected fault."""

from __future__ import annotations

import pytest

from hub.health.anomaly import AnomalyDetector
from hub.health.simweek import INDOOR, OUTDOOR, WEEK_START, run_week, simulated_week


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_heater_stuck_on_is_caught_within_an_hour_with_at_most_one_false_alarm(seed):
    readings, fault = simulated_week(INDOOR, "heater", seed=seed)
    result = run_week(AnomalyDetector(), readings, fault)
    assert result.delay is not None, "the fault was missed"
    assert result.delay <= 3600
    assert result.false_alarms <= 1
    alarm = next(a for a in result.alarms if a.ts >= fault.start)
    data = alarm.to_data()
    assert data["value"] > data["band"][1]
    assert data["band"][0] < data["expected"] < data["band"][1]
    assert data["score"] > 5


@pytest.mark.parametrize(("climate", "seed"), [(INDOOR, 7), (OUTDOOR, 8)])
def test_sensor_dropping_to_minus_40_is_caught(climate, seed):
    readings, fault = simulated_week(climate, "drop", seed=seed)
    result = run_week(AnomalyDetector(), readings, fault)
    assert result.delay is not None and result.delay <= 1800
    assert result.false_alarms <= 1
    assert min(a.value for a in result.alarms) == -40.0


@pytest.mark.parametrize("climate", [INDOOR, OUTDOOR])
def test_ordinary_week_raises_at_most_one_alarm(climate):
    readings, _ = simulated_week(climate, "none", seed=11)
    result = run_week(AnomalyDetector(), readings, None)
    assert len(result.alarms) <= 1


def test_an_episode_is_reported_once():
    detector = AnomalyDetector()
    readings, fault = simulated_week(INDOOR, "drop", seed=3)
    alarms = [a for ts, v in readings if (a := detector.update(v, ts)) is not None]
    during = [a for a in alarms if fault.start <= a.ts < fault.end]
    assert len(during) == 1  # twelve readings at -40, one event


def test_time_of_day_profile_learned_after_a_day():
    detector = AnomalyDetector()
    readings, _ = simulated_week(INDOOR, "none", seed=2, days=2)
    for ts, v in readings:
        detector.update(v, ts)
    assert detector.profile_ready
    # The expectation follows the daily cycle: cooler at dawn than in the afternoon.
    dawn = detector.expected(WEEK_START + 2 * 86400 + 5 * 3600)
    afternoon = detector.expected(WEEK_START + 2 * 86400 + 17 * 3600)
    assert dawn is not None and afternoon is not None
    assert afternoon[0] - dawn[0] > 3
