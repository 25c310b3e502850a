"""The SQLAlchemy URLs the Great Expectations checks connect with: libpq fields and session settings."""

from __future__ import annotations

from warehouse.connection import sqlalchemy_url, with_settings

DSN = "host=/srv/pg dbname=warehouse user=airflow password=s3cret port=5433"


def test_the_url_keeps_every_libpq_field_and_sets_the_search_path():
    url = sqlalchemy_url(DSN, search_path="music_staging")
    assert url.drivername == "postgresql+psycopg2"
    assert dict(url.query) == {
        "host": "/srv/pg",
        "dbname": "warehouse",
        "user": "airflow",
        "password": "s3cret",
        "port": "5433",
        "options": "-c search_path=music_staging",
    }


def test_settings_are_added_after_the_ones_the_url_already_sets():
    url = with_settings(sqlalchemy_url(DSN, search_path="music_staging"), {"enable_hashjoin": "off", "work_mem": "8MB"})
    assert url.query["options"] == "-c search_path=music_staging -c enable_hashjoin=off -c work_mem=8MB"
    assert url.query["host"] == "/srv/pg"


def test_settings_on_a_url_without_options_or_given_as_text():
    assert with_settings(sqlalchemy_url(DSN), {"enable_hashjoin": "off"}).query["options"] == "-c enable_hashjoin=off"
    url = with_settings("postgresql+psycopg2://airflow@db/warehouse", {"enable_hashjoin": "off"})
    assert (url.host, url.database, url.query["options"]) == ("db", "warehouse", "-c enable_hashjoin=off")
