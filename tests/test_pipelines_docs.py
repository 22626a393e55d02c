"""The offline example of docs/pipelines.md runs as written."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def offline_examples(page: str) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(encoding="utf-8"), flags=re.DOTALL)
    return [block for block in blocks if block.startswith("# offline example")]


def test_pipelines_page_offline_example_runs(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the example's folders go to the test's tmp_path
    (example,) = offline_examples("pipelines.md")
    assert list(tmp_path.iterdir()) == []
    exec(compile(example, "docs/pipelines.md", "exec"), {"__name__": "docs_example"})
    # transformers itself prints "[ERROR] No checkpoint found ..." the first time it imports its LUKE module.
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("[ERROR] No checkpoint")]
    printed = "\n".join(lines)
    assert len(list(tmp_path.iterdir())) == 1
    assert len(lines) == 4, "one line per pipeline"
    assert "'entity_group'" in printed or printed.startswith("[]")
    assert "'label': 'person'" in printed or "'label': 'location'" in printed
    assert "'label': 'visited'" in printed or "'label': 'no_relation'" in printed
    assert "'entity': 'en:" in printed
