"""Offline evaluation of the recommendations by playlist continuation, in plain numpy and scipy.

A deterministic share of playlists is held out (``holdout``); for each held-out playlist the
first 1, 5, 10 or 25 songs are shown, 500 songs are recommended from the published similarities
and compared with the rest of the playlist (``continuation``), in the style of the RecSys
Challenge 2018, with its accuracy figures and figures beyond accuracy (``metrics``), next to the
most-popular and exact cosine / Jaccard item-kNN baselines on the same split (``baselines``).

No Spark, Airflow or database here: the pipeline hands these functions arrays and dictionaries.
"""
