"""Issue #13's six targets as make bench --dag judges them (benchmarks.dag_targets), on hand-made figures."""

import copy

import pytest

from benchmarks.dag_targets import targets

# Every target met: 290 s, 7.5 GiB more in use at the peak than before, recall 0.995; the engine
# 40 + 110 = 150 s against the other 140 s and 2.5x implicit; the validations 9 + 10 + 9 = 28 s (9.7%);
# MLlib 120 s against a 50 s DAG (2.4x); the demo 85 s; extract 40 s against a 25 s pyarrow read (1.6x).
ALL_MET = {
    "scale": [{"similarity_vs_limit": 2.5}],
    "seed_setting": {"songs": 10_000, "mllib": {"seconds": 120.0}},
    "dag": {
        "largest": {
            "rows": 12_900_000,
            "dag_seconds": 290.0,
            "machine_memory_before_gib": 1.0,
            "machine_memory_peak_gib": 8.5,
            "recall_at_10": 0.995,
            "recall_sample_songs": 2000,
            "stage_seconds": {
                "extract": 40.0,
                "validate_extract": 9.0,
                "minhash": 40.0,
                "similarity_join": 110.0,
                "validate_recommendations": 10.0,
                "stage": 30.0,
                "validate_staged": 9.0,
                "publish": 1.0,
            },
        },
        "seed": {"rows": 1_000_000, "dag_seconds": 50.0, "songs_published": 78_878},
        "demo_seconds": 85.0,
        "pyarrow_read_seconds": 25.0,
    },
}


def verdicts(report):
    return {target["target"]: target["met"] for target in targets(report)}


def test_figures_within_every_bound_meet_all_six():
    assert verdicts(ALL_MET) == {1: True, 2: True, 3: True, 4: True, 5: True, 6: True}


@pytest.mark.parametrize(
    ("path", "value", "missed"),
    [
        (("dag", "largest", "machine_memory_peak_gib"), 9.5, 1),  # 8.5 GiB more than before the run
        (("dag", "largest", "recall_at_10"), 0.985, 1),
        (("scale", 0, "similarity_vs_limit"), 3.5, 2),
        (("dag", "largest", "stage_seconds", "similarity_join"), 90.0, 2),  # the rest, 160 s, outweighs 130 s
        (("dag", "largest", "stage_seconds", "validate_staged"), 12.0, 3),  # 31 s of 290: 10.7%
        (("dag", "seed", "dag_seconds"), 61.0, 4),  # MLlib's 120 s is 1.97x
        (("dag", "demo_seconds"), 91.0, 5),
        (("dag", "largest", "stage_seconds", "extract"), 51.0, 6),  # 2.04x the pyarrow read
    ],
)
def test_a_figure_past_its_bound_misses_that_target_only(path, value, missed):
    report = copy.deepcopy(ALL_MET)
    holder = report
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value

    assert verdicts(report) == {n: n != missed for n in range(1, 7)}


def test_without_the_seed_setting_target_4_is_reported_unmeasured():
    report = copy.deepcopy(ALL_MET)
    del report["seed_setting"]
    found = {target["target"]: target for target in targets(report)}
    assert found[4]["met"] is False
    assert "not measured" in found[4]["figure"]
