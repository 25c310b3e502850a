"""`make help` lists every target a newcomer can type."""

import re
import subprocess

from pipeline.settings import PROJECT_ROOT


def test_make_help_lists_every_phony_target():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE).group(1).split()
    listed = subprocess.run(["make", "--no-print-directory", "help"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60, check=True).stdout  # fmt: skip
    missing = [target for target in phony if not re.search(rf"\bmake {re.escape(target)}\b", listed)]
    assert missing == []
