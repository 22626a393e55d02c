"""Loading a released-size mLUKE tokenizer folder: mluke_hf's two classes against transformers 4.57.6 and 5.x in-tree.

    .venv/bin/python benchmarks/bench_load.py [--scale 1.0] [--rounds 2] [--reference-python /work/venv-ref/bin/python]

The folder (see `load_folder.py`: 250,000 SentencePiece pieces, entity_vocab.json of ~9.8M `lang:title` keys over
1.2M ids at scale 1.0) is built once under the temp folder and reused. Every measurement runs in a fresh interpreter
(`--worker`), which imports its library first, then times:
- load: `from_pretrained(folder)`;
- special call: the first call using special entities only (entity spans without names: `[MASK]` entities), the
  calls of NER, entity typing and relation classification;
- named call: the first call naming real entities (`en:...`, `ja:...`, one unknown name);
- memory: growth of the peak resident set (`VmHWM`, reset through `/proc/self/clear_refs` after the imports) over
  the resident set before loading, after the special call and after the named call.
Loaders: `mluke_slow` (`MLukeTokenizer.from_pretrained`), `mluke_auto` (`AutoTokenizer.from_pretrained`, the fast
class), each "cold" (an empty mluke_hf cache: `MLUKE_HF_CACHE` points to a fresh folder) and "warm" (the cache the
cold run left); `mluke_auto_saved` (a folder `MLukeTokenizerFast.save_pretrained` wrote, with its fingerprinted
tokenizer.json); `intree` (the MLukeTokenizer inside the installed transformers, mluke_hf not imported) and
`reference` (transformers 4.57.6's MLukeTokenizer in `--reference-python`). Rounds interleave the loaders, so load from
other processes hits all alike; each figure is the median over rounds. The outputs of the two calls (input_ids,
entity_ids, entity_position_ids) must be identical across loaders, else the run fails (the in-tree class of
transformers 5 is known to differ and is only reported).
Targets: AutoTokenizer cold load >= 10x faster than 4.57.6 and peak growth after the special call <= 1/4 of 4.57.6's;
first named call no slower than 4.57.6's whole load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXT = "Tokyo 東京 is the capital of Japan; กรุงเทพมหานคร and नई दिल्ली are capitals too."
MENTIONS = ("Tokyo", "東京", "Japan", "กรุงเทพมหานคร", "नई दिल्ली")
SPANS = [(TEXT.index(mention), TEXT.index(mention) + len(mention)) for mention in MENTIONS]


def _memory_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _outputs(encoding) -> dict:
    return {key: encoding[key] for key in ("input_ids", "entity_ids", "entity_position_ids") if key in encoding}


def worker(loader: str, folder: str, names: list[str]) -> dict:
    """Runs in its own interpreter: import, load, special call, named call; prints one JSON line."""
    start = time.perf_counter()
    if loader == "reference" or loader == "intree":
        from transformers import MLukeTokenizer as Loader

        load = Loader.from_pretrained
    elif loader.startswith("mluke_auto"):
        from transformers import AutoTokenizer

        import mluke_hf  # noqa: F401  (registers the classes)

        load = AutoTokenizer.from_pretrained
    else:
        from mluke_hf import MLukeTokenizer

        load = MLukeTokenizer.from_pretrained
    imported = time.perf_counter() - start
    result = {"loader": loader, "import_s": imported}
    before = _memory_kib("VmRSS")
    _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    tokenizer = load(folder)
    result["load_s"], result["load_cpu_s"] = time.perf_counter() - start, time.process_time() - cpu
    result["class"] = type(tokenizer).__name__
    start, cpu = time.perf_counter(), time.process_time()
    special = tokenizer(TEXT, entity_spans=SPANS)
    result["special_call_s"], result["special_call_cpu_s"] = time.perf_counter() - start, time.process_time() - cpu
    result["peak_growth_special_mib"] = (_memory_kib("VmHWM") - before) / 1024
    start, cpu = time.perf_counter(), time.process_time()
    named = tokenizer(TEXT, entities=names, entity_spans=SPANS[: len(names)])
    result["named_call_s"], result["named_call_cpu_s"] = time.perf_counter() - start, time.process_time() - cpu
    result["peak_growth_named_mib"] = (_memory_kib("VmHWM") - before) / 1024
    result["outputs"] = {"special": _outputs(special), "named": _outputs(named)}
    if loader.startswith("mluke"):
        # What entity-fill-mask does: every id the vocabulary names, then the names of its top 10.
        start, cpu = time.perf_counter(), time.process_time()
        entity_ids = tokenizer.entity_vocab.entity_ids()
        top_names = [tokenizer.entity_vocab.names_of(entity_id) for entity_id in entity_ids[-10:]]
        result["ids_to_names_s"], result["ids_to_names_cpu_s"] = time.perf_counter() - start, time.process_time() - cpu
        result["peak_growth_ids_to_names_mib"] = (_memory_kib("VmHWM") - before) / 1024
        result["outputs"]["ids_to_names"] = [len(entity_ids), top_names]
    return result


TOKEN_CALLS = ("special", "named")


def sample_names(folder: Path, count: int = 3) -> list[str]:
    """Real names from the head of the vocabulary (a few kB read), plus one name that is not in it."""
    with open(folder / "entity_vocab.json", "rb") as handle:
        head = handle.read(4096).decode("utf-8", errors="ignore")
    names = [name for name in re.findall(r'"((?:[^"\\]|\\.)*)":', head) if not name.startswith("[")]
    return [json.loads(f'"{name}"') for name in names[:count]] + ["xx:No such entity"]


def run_worker(python: str, loader: str, folder: Path, names: list[str], cache: Path | None) -> dict:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(HERE.parent) + os.pathsep + environment.get("PYTHONPATH", "")
    environment["HF_HUB_OFFLINE"] = environment["TRANSFORMERS_OFFLINE"] = "1"
    environment["TOKENIZERS_PARALLELISM"] = "false"
    if cache is not None:
        environment["MLUKE_HF_CACHE"] = str(cache)
    if loader in ("reference", "intree"):
        environment.pop("PYTHONPATH")  # neither may see mluke_hf
    command = [python, str(Path(__file__).resolve()), "--worker", loader, "--folder", str(folder),
               "--names", json.dumps(names)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        return {"loader": loader, "error": completed.stderr[-2000:]}
    return json.loads(lines[-1])


def machine() -> dict:
    flags = sorted(set(re.findall(r"avx512[a-z_0-9]*|amx[a-z_0-9]*|avx2", Path("/proc/cpuinfo").read_text())))
    return {"load_average": os.getloadavg(), "cpu_flags": flags, "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = released size; 0.01 for a quick run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reference-python", default="/work/venv-ref/bin/python")
    parser.add_argument("--loaders", default="reference,intree,mluke_slow,mluke_auto,mluke_auto_saved")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--names", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.worker, options.folder, json.loads(options.names))))
        return

    sys.path.insert(0, str(HERE))
    from load_folder import build_folder

    start = time.perf_counter()
    folder = build_folder(options.scale)
    print(f"folder {folder} ready in {time.perf_counter() - start:.1f} s: {(folder / 'built.json').read_text()}")
    names = sample_names(folder)
    loaders = options.loaders.split(",")
    if "reference" in loaders and not Path(options.reference_python).exists():
        print(f"{options.reference_python} not found: skipping transformers 4.57.6")
        loaders.remove("reference")
    work = Path(tempfile.mkdtemp(prefix="mluke_hf_bench_load_run_"))
    runs: dict[str, list[dict]] = {}
    try:
        saved = work / "saved"
        if "mluke_auto_saved" in loaders:
            setup_cache = work / "setup-cache"
            code = ("import sys, mluke_hf; from transformers import AutoTokenizer; "
                    "AutoTokenizer.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[2])")  # fmt: skip
            environment = dict(os.environ, MLUKE_HF_CACHE=str(setup_cache))
            environment["PYTHONPATH"] = str(HERE.parent) + os.pathsep + environment.get("PYTHONPATH", "")
            subprocess.run([sys.executable, "-c", code, str(folder), str(saved)], check=True, env=environment)
            shutil.rmtree(setup_cache, ignore_errors=True)
        print("load average before:", os.getloadavg())
        for round_index in range(options.rounds):
            for loader in loaders:
                variants = ["cold", "warm"] if loader in ("mluke_slow", "mluke_auto") else [""]
                cache = work / f"cache-{loader}-{round_index}"
                for variant in variants:
                    python = options.reference_python if loader == "reference" else sys.executable
                    source = saved if loader == "mluke_auto_saved" else folder
                    result = run_worker(python, loader, source, names, cache if loader.startswith("mluke") else None)
                    label = f"{loader} {variant}".strip()
                    runs.setdefault(label, []).append(result)
                    if "error" in result:
                        print(f"{label}: FAILED\n{result['error']}")
                    else:
                        print(f"round {round_index} {label}: load {result['load_s']:.2f} s, special call "
                              f"{result['special_call_s']:.3f} s, named call {result['named_call_s']:.2f} s, peak "
                              f"+{result['peak_growth_special_mib']:.0f} / +{result['peak_growth_named_mib']:.0f} MiB"
                              + (f"; ids -> names {result['ids_to_names_s']:.2f} s, peak "
                                 f"+{result['peak_growth_ids_to_names_mib']:.0f} MiB" if "ids_to_names_s" in result
                                 else ""))  # fmt: skip
                shutil.rmtree(cache, ignore_errors=True)
        print("load average after:", os.getloadavg())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(runs, options)


def report(runs: dict[str, list[dict]], options) -> None:
    fields = ("load_s", "load_cpu_s", "special_call_s", "special_call_cpu_s", "named_call_s", "named_call_cpu_s",
              "peak_growth_special_mib", "peak_growth_named_mib", "ids_to_names_s", "ids_to_names_cpu_s",
              "peak_growth_ids_to_names_mib")  # fmt: skip
    summary = {}
    for label, results in runs.items():
        good = [result for result in results if "error" not in result]
        if good:
            summary[label] = {
                field: statistics.median(result.get(field, float("nan")) for result in good) for field in fields
            }
    print("\n| loader | load s (CPU s) | first special-entity call s (CPU) | first named call s (CPU) | peak growth "
          "(special only) MiB | peak growth (after named) MiB | ids -> names s (CPU) | peak growth (after it) MiB "
          "|\n|---|---|---|---|---|---|---|---|")  # fmt: skip
    for label, v in summary.items():
        print(f"| {label} | {v['load_s']:.2f} ({v['load_cpu_s']:.2f}) | {v['special_call_s']:.3f} "
              f"({v['special_call_cpu_s']:.3f}) | {v['named_call_s']:.2f} ({v['named_call_cpu_s']:.2f}) | "
              f"{v['peak_growth_special_mib']:.0f} | {v['peak_growth_named_mib']:.0f} | {v['ids_to_names_s']:.2f} "
              f"({v['ids_to_names_cpu_s']:.2f}) | {v['peak_growth_ids_to_names_mib']:.0f} |")  # fmt: skip
    failures = [label for label, results in runs.items() if any("error" in result for result in results)]
    reference_outputs = next((r["outputs"] for r in runs.get("reference", []) if "outputs" in r), None)
    mismatches = []
    if reference_outputs is not None:
        for label, results in runs.items():
            if label == "intree":
                continue
            for result in results:
                if "outputs" in result and any(
                    result["outputs"][key] != reference_outputs[key] for key in TOKEN_CALLS
                ):
                    mismatches.append(label)
    # ids -> names: every mluke_hf loader must agree (4.57.6 has no such lookup; cold builds the index, warm reads it).
    reverse = [
        r["outputs"]["ids_to_names"] for rs in runs.values() for r in rs if "ids_to_names" in r.get("outputs", {})
    ]
    if any(item != reverse[0] for item in reverse):
        mismatches.append("ids -> names differ between mluke_hf loaders")
    intree_same = [r.get("outputs") == reference_outputs for r in runs.get("intree", []) if "outputs" in r]
    print("\nids identical to 4.57.6:", "yes" if reference_outputs and not mismatches else f"NO: {mismatches}"
          if reference_outputs else "no reference run")  # fmt: skip
    if intree_same:
        print("in-tree (transformers 5) ids identical to 4.57.6:", all(intree_same))
    reference = summary.get("reference")
    auto = summary.get("mluke_auto cold")
    targets = {}
    if reference and auto:
        for clock, suffix in (("wall", "_s"), ("CPU", "_cpu_s")):
            targets[f"cold load speed-up, AutoTokenizer vs 4.57.6 ({clock}), target >= 10"] = (
                reference["load" + suffix] / auto["load" + suffix]
            )
            targets[f"first named call / 4.57.6 whole load ({clock}), target <= 1"] = (
                auto["named_call" + suffix] / reference["load" + suffix]
            )
        targets["peak growth while special only, AutoTokenizer / 4.57.6, target <= 0.25"] = (
            auto["peak_growth_special_mib"] / reference["peak_growth_special_mib"]
        )
        for name, value in targets.items():
            print(f"{name}: {value:.3f}")
    if options.json:
        options.json.write_text(json.dumps({"machine": machine(), "summary": summary, "targets": targets,
                                            "runs": runs, "mismatches": mismatches}, indent=1, default=str))  # fmt: skip
    print("machine:", machine())
    if failures or mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
