"""``make docs``: where the newest run's Great Expectations Data Docs are (and open them when asked).

Every validation stage rebuilds them in the run folder (``pipeline.run_folder.RunFolder.data_docs_index``).
"""

from __future__ import annotations

import argparse
import sys
import webbrowser

from pipeline.run_folder import newest_data_docs, runs_dir

DAG_ID = "spotify_recommendations"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", action="store_true", help="open them in a browser too")
    args = parser.parse_args(argv)
    page = newest_data_docs(DAG_ID)
    if page is None:
        sys.exit(f"no Data Docs under {runs_dir(DAG_ID)} yet: run `make demo` first")
    print(page.as_uri())
    if args.open:
        webbrowser.open(page.as_uri())


if __name__ == "__main__":
    main()
