"""``make docs``: where the newest run's Great Expectations Data Docs are (and open them when asked).

Every validation stage rebuilds them into ``<data>/runs/<dag>/<run>/gx/uncommitted/data_docs/local_site/``.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser

from spotify_recs.paths import data_dir


def newest_data_docs():
    pages = sorted(
        (data_dir() / "runs").glob("*/*/gx/uncommitted/data_docs/local_site/index.html"),
        key=lambda page: page.stat().st_mtime,
    )
    return pages[-1] if pages else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", action="store_true", help="open them in a browser too")
    args = parser.parse_args(argv)
    page = newest_data_docs()
    if page is None:
        sys.exit(f"no Data Docs under {data_dir() / 'runs'} yet: run `make demo` first")
    print(page.as_uri())
    if args.open:
        webbrowser.open(page.as_uri())


if __name__ == "__main__":
    main()
