"""Record transformers 4.57.6 on tokenizer folders saved by mluke_hf's MLukeTokenizerFast (tokenizer.json included).

Run in the side environment that has transformers==4.57.6:

    /work/venv-ref/bin/python scripts/make_fast_saved_golden.py [--main-python .venv/bin/python]

For each golden variant of scripts/make_tokenizer_golden.py (same SentencePiece models, entity vocabularies and
released config variants), the main environment loads the released folder with MLukeTokenizerFast and saves it; this
script then loads the saved folder with 4.57.6's MLukeTokenizer, replays the "saved" cases of the golden script on it,
and checks they equal the same cases on the released folder (it exits with an error otherwise). The cases are written
to tests/data/tokenizer/golden_fast_saved.json; tests/test_tokenization_mluke_fast.py replays them on the saved
folders loaded again by MLukeTokenizerFast.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "tests" / "data" / "tokenizer" / "golden_fast_saved.json"


def load_golden_script():
    path = REPO / "scripts" / "make_tokenizer_golden.py"
    spec = importlib.util.spec_from_file_location("make_tokenizer_golden", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save_with_fast_class(main_python: str, folders: dict[str, Path], root: Path) -> dict[str, Path]:
    script = (
        "import sys\n"
        "from mluke_hf import MLukeTokenizerFast\n"
        "for source, target in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    MLukeTokenizerFast.from_pretrained(source).save_pretrained(target)\n"
    )
    saved, argv = {}, []
    for name, folder in folders.items():
        saved[f"saved:{name}"] = root / f"saved-fast-{name}"
        argv += [str(folder), str(saved[f"saved:{name}"])]
    subprocess.run([main_python, "-c", script, *argv], check=True, cwd=REPO)
    for folder in saved.values():
        if not (folder / "tokenizer.json").is_file():
            sys.exit(f"{folder} has no tokenizer.json: MLukeTokenizerFast.save_pretrained must write it")
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--main-python", default=str(REPO / ".venv" / "bin" / "python"))
    options = parser.parse_args()
    import transformers

    if transformers.__version__ != "4.57.6":
        sys.exit(f"run this with transformers 4.57.6 (found {transformers.__version__})")
    golden = load_golden_script()
    building = golden.load_building()
    models = golden.prepare_models(building)
    texts = golden.read_corpus()
    cases = [{**case, "args": golden.encode_value(case["args"])} for case in golden.saved_cases(texts)]
    with tempfile.TemporaryDirectory() as tmp:
        folders = golden.write_folders(building, models, Path(tmp))
        saved = save_with_fast_class(options.main_python, folders, Path(tmp))
        results = golden.record(cases, {**folders, **saved})
        originals = {
            result["name"]: result
            for result in golden.record(
                [{**case, "tokenizer": case["tokenizer"].split(":", 1)[1]} for case in cases], folders
            )
        }
    mismatches = [r["name"] for r in results if "error" in r or r.get("ok") != originals[r["name"]].get("ok")]
    if mismatches:
        sys.exit(f"folders saved by MLukeTokenizerFast load differently under transformers 4.57.6: {mismatches}")
    OUTPUT.write_text(
        json.dumps({"transformers_version": transformers.__version__, "cases": results}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {len(results)} cases to {OUTPUT.relative_to(REPO)}; all equal to the released folders under 4.57.6")


if __name__ == "__main__":
    main()
