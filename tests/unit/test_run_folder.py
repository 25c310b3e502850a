"""Run folders: one per run, safe names, the oldest pruned."""

import os

import pytest

from pipeline.run_folder import prune_run_folders, run_folder_path


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_RECS_DATA_DIR", str(tmp_path))
    return tmp_path


def test_run_folders_have_names_hadoop_paths_accept(data_dir):
    folder = run_folder_path("dag", "manual__2026-11-28T22:28:08.911620+00:00")
    assert folder == str(data_dir / "runs" / "dag" / "manual__2026-11-28T22_28_08.911620_00_00")


def test_the_oldest_run_folders_are_pruned_and_the_current_one_kept(data_dir):
    runs = [f"run_{i}" for i in range(5)]
    for age, run_id in enumerate(reversed(runs)):  # run_4 newest ... run_0 oldest
        os.makedirs(run_folder_path("dag", run_id))
        os.utime(run_folder_path("dag", run_id), (1_000_000 - age * 100, 1_000_000 - age * 100))
    os.utime(run_folder_path("dag", "run_0"), (0, 0))  # the current run is kept whatever its age
    deleted = prune_run_folders("dag", "run_0", keep=3)
    assert sorted(deleted) == [run_folder_path("dag", "run_1"), run_folder_path("dag", "run_2")]
    assert sorted(p.name for p in (data_dir / "runs" / "dag").iterdir()) == ["run_0", "run_3", "run_4"]


def test_keep_must_be_positive(data_dir):
    os.makedirs(run_folder_path("dag", "run"))
    with pytest.raises(ValueError, match="at least 1"):
        prune_run_folders("dag", "run", keep=0)
