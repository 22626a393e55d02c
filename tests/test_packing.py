"""Packed (unpadded) rows and the CPU linear kernel: every head still equals in-tree LUKE on every real row.

`mluke_hf.packing` runs the encoder's per-row work on real words and entities only when a forward records no
gradient; `mluke_hf.linear_kernels` picks oneDNN for float32 linear layers on non-Intel AVX-512 CPUs. Both change
which arithmetic runs, never its result on a real row: checked against transformers' in-tree LUKE (the oracle of
`test_modeling_parity.py`) and against the padded computation of the same model.
"""

from __future__ import annotations

import threading

import pytest
import torch
from test_modeling_parity import ATOL, HEADS, head_inputs, model_pair
from torch import nn
from transformers.activations import ACT2FN

import mluke_hf
from mluke_hf import linear_kernels, precision
from mluke_hf.packing import PackedRows

from fixtures_model import randomize_parameters, tiny_config, word_entity_batch

# Which rows of each output are real: "words" (attention_mask), "entities" (entity_attention_mask), else all.
OUTPUT_ROWS = {
    "last_hidden_state": "words",
    "entity_last_hidden_state": "entities",
    "start_logits": "words",
    "end_logits": "words",
}
PER_KIND_ROWS = {
    "masked_lm": {"logits": "words", "entity_logits": "entities"},
    "entity_span": {"logits": "entities"},
    "token": {"logits": "words"},
}


LABEL_NAMES = ("labels", "entity_labels", "start_positions", "end_positions")


def inputs_without_labels(kind: str) -> dict[str, torch.Tensor]:
    """`head_inputs` for inference: no labels, so no loss and nothing that would keep the padding rows."""
    return {name: value for name, value in head_inputs(kind).items() if name not in LABEL_NAMES}


def real_rows(kind: str, name: str, inputs: dict[str, torch.Tensor]) -> torch.Tensor | None:
    rows = PER_KIND_ROWS.get(kind, {}).get(name, OUTPUT_ROWS.get(name))
    if rows == "words":
        return inputs["attention_mask"].bool()
    if rows == "entities":
        return inputs["entity_attention_mask"].bool()
    if kind == "entity_pair" and name == "logits":
        # The pair head reads entities 0 and 1: a row with one real entity reads a padding state.
        return inputs["entity_attention_mask"][:, :2].bool().all(dim=1)
    return None


def assert_equal_on_real_rows(kind, ours, theirs, inputs, atol=ATOL):
    assert list(ours.keys()) == list(theirs.keys())
    for name in theirs.keys():
        rows = real_rows(kind, name, inputs)
        a, b = ours[name], theirs[name]
        if rows is not None:
            a, b = a[rows], b[rows]
        torch.testing.assert_close(a, b, atol=atol, rtol=0, msg=lambda message: f"{kind}.{name}: {message}")


class PackingSpy:
    """Counts forwards that ran packed."""

    def __init__(self, monkeypatch):
        self.calls = 0
        original = PackedRows.pack

        def pack(packing, padded):
            self.calls += 1
            return original(packing, padded)

        monkeypatch.setattr(PackedRows, "pack", pack)


@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
@pytest.mark.parametrize("entity_aware", [False, True], ids=["plain", "entity_aware"])
@pytest.mark.parametrize("plugin_class,intree_name,kind", HEADS, ids=[name for _, name, _ in HEADS])
def test_packed_forward_equals_intree_on_real_rows(
    plugin_class, intree_name, kind, entity_aware, attn_implementation, monkeypatch
):
    plugin, intree = model_pair(plugin_class, intree_name, entity_aware, attn_implementation)
    inputs = inputs_without_labels(kind)
    spy = PackingSpy(monkeypatch)
    with torch.no_grad():
        ours = plugin(**inputs)
        assert spy.calls > 0, "a padded batch without gradients runs packed"
        theirs = intree(**inputs)
        padded = plugin(**inputs, output_hidden_states=True)  # per-layer outputs keep the padded computation
    assert_equal_on_real_rows(kind, ours, theirs, inputs)
    padded = {name: padded[name] for name in ours.keys()}
    assert_equal_on_real_rows(kind, ours, padded, inputs, atol=1e-6)


@pytest.mark.parametrize("plugin_class,intree_name,kind", HEADS[1:], ids=[name for _, name, _ in HEADS[1:]])
def test_a_loss_keeps_the_padding_rows(plugin_class, intree_name, kind, monkeypatch):
    """With labels the heads keep the padded computation, so every loss is in-tree's, including the question-answering
    one, which normalises over padding positions too."""
    plugin, intree = model_pair(plugin_class, intree_name, False, "sdpa")
    inputs = head_inputs(kind)
    spy = PackingSpy(monkeypatch)
    with torch.no_grad():
        ours, theirs = plugin(**inputs), intree(**inputs)
    assert spy.calls == 0
    torch.testing.assert_close(ours.loss, theirs.loss, atol=ATOL, rtol=0)


def test_padding_rows_of_packed_states_are_zero(monkeypatch):
    model = randomize_parameters(mluke_hf.MLukeModel(tiny_config())).eval()
    inputs = word_entity_batch()
    with torch.no_grad():
        outputs = model(**inputs)
    padding_words = inputs["attention_mask"] == 0
    padding_entities = inputs["entity_attention_mask"] == 0
    assert padding_words.any() and padding_entities.any()
    assert outputs.last_hidden_state[padding_words].eq(0).all()
    assert outputs.entity_last_hidden_state[padding_entities].eq(0).all()
    assert outputs.last_hidden_state[~padding_words].ne(0).any()


@pytest.mark.parametrize(
    "case",
    ["gradients", "labels", "no padding", "hidden states", "attentions", "meta device"],
)
def test_packing_is_left_out_where_it_does_not_apply(case, monkeypatch):
    model = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(tiny_config())).eval()
    inputs = word_entity_batch()
    spy = PackingSpy(monkeypatch)
    if case == "no padding":
        inputs = {name: value[:1] for name, value in inputs.items()}  # row 0 has no padding
        assert inputs["attention_mask"].all() and inputs["entity_attention_mask"].all()
    if case == "meta device":
        model, inputs = model.to("meta"), {name: value.to("meta") for name, value in inputs.items()}
    keywords = {
        "hidden states": {"output_hidden_states": True},
        "attentions": {"output_attentions": True},
        "labels": {"labels": torch.zeros_like(inputs["entity_ids"])},
    }
    with torch.set_grad_enabled(case == "gradients"):
        model(**inputs, **keywords.get(case, {}))
    assert spy.calls == 0


def test_training_forward_is_unchanged_by_packing(monkeypatch):
    """Training keeps the padded computation: the same loss and gradients as in-tree LUKE, padding included."""
    plugin, intree = model_pair(mluke_hf.MLukeForEntitySpanClassification, "LukeForEntitySpanClassification", False,
                                "sdpa")  # fmt: skip
    inputs = head_inputs("entity_span")
    spy = PackingSpy(monkeypatch)
    ours, theirs = plugin(**inputs).loss, intree(**inputs).loss
    assert spy.calls == 0
    torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=0)
    ours.backward()
    theirs.backward()
    ours_grad = plugin.luke.encoder.layer[0].intermediate.dense.weight.grad
    theirs_grad = intree.luke.encoder.layer[0].intermediate.dense.weight.grad
    torch.testing.assert_close(ours_grad, theirs_grad, atol=ATOL, rtol=0)


def test_packed_rows_round_trip():
    mask = torch.tensor([[1, 1, 0, 1, 0], [1, 0, 0, 1, 1]])
    assert PackedRows.of_mask(mask, word_length=3) is None  # gradients on: no packing
    with torch.no_grad():
        packing = PackedRows.of_mask(mask, word_length=3)
    # Input by input, each input's words then its entities: input 0 has words 0, 1 and entity 3; input 1 word 5 and
    # entities 8, 9 (flattened positions of the padded layout, length 5, 3 word positions).
    assert packing.index.tolist() == [0, 1, 3, 5, 8, 9]
    assert packing.word_index.tolist() == [0, 1, 3] and packing.entity_index.tolist() == [2, 4, 5]
    assert packing.spans == ((0, 3), (3, 3))
    states = torch.arange(2 * 5 * 2, dtype=torch.float32).view(2, 5, 2)
    rows = packing.pack(states)
    assert rows.shape == (6, 2)
    unpacked = packing.unpack(rows)
    assert torch.equal(unpacked[mask.bool()], states[mask.bool()])
    assert unpacked[~mask.bool()].eq(0).all()
    with torch.no_grad():
        assert PackedRows.of_mask(torch.ones(2, 5), 3) is None


def test_shared_model_packed_from_threads():
    """One model, eight threads, padded batches of different shapes: every result equals the sequential one."""
    model = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(tiny_config())).eval()
    batches = [word_entity_batch(seed) for seed in range(4)] + [
        {name: value[1:] for name, value in word_entity_batch(seed).items()} for seed in range(4)
    ]
    with torch.no_grad():
        expected = [model(**batch).logits for batch in batches]
    results, errors = [None] * 64, []

    def work(index):
        try:
            with torch.no_grad():
                results[index] = model(**batches[index % len(batches)]).logits
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for index, result in enumerate(results):
        assert torch.equal(result, expected[index % len(batches)])


# -- the float32 linear kernel ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vendor,flags,preferred",
    [
        ("AuthenticAMD", {"avx2", "avx512f"}, True),
        ("AuthenticAMD", {"avx2"}, False),  # Zen 2/3: MKL's AVX2 path is as good
        ("GenuineIntel", {"avx2", "avx512f", "amx_bf16"}, False),
        ("HygonGenuine", {"avx2", "avx512f"}, True),
        ("", set(), False),  # not known: keep PyTorch's choice
    ],
)
def test_onednn_fp32_preferred_by_vendor_and_flags(vendor, flags, preferred):
    assert linear_kernels.onednn_fp32_preferred(vendor, flags) is preferred


def test_cpu_vendor_reads_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx512f\n")
    assert precision.cpu_vendor(cpuinfo) == "AuthenticAMD"
    assert precision.cpu_vendor(tmp_path / "missing") == ""


@pytest.fixture
def onednn_on(monkeypatch):
    """The oneDNN choice made as on an AMD AVX-512 CPU, whatever this machine is."""
    if not torch.backends.mkldnn.is_available():
        pytest.fail("this PyTorch build has no oneDNN; the CPU build of torch==2.13.0 has it")
    monkeypatch.setattr(linear_kernels, "_use_onednn_fp32", lambda: True)


def test_linear_on_onednn_equals_nn_linear(onednn_on):
    layer = nn.Linear(48, 80)
    states = torch.randn(3, 7, 48)
    with torch.no_grad():
        assert linear_kernels.onednn_applies(layer, states)
        ours = linear_kernels.linear(layer, states)
        theirs = layer(states)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_linear_under_autocast_runs_in_the_autocast_dtype(onednn_on):
    layer, states = nn.Linear(16, 8), torch.randn(4, 16)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert not linear_kernels.onednn_applies(layer, states)
        assert not linear_kernels.fused_gelu_applies(layer, states)
        assert linear_kernels.linear(layer, states).dtype == torch.bfloat16
        assert linear_kernels.linear_gelu(layer, states).dtype == torch.bfloat16


@pytest.mark.parametrize("case", ["gradients", "forward hook", "bfloat16", "subclass", "meta"])
def test_linear_keeps_pytorch_where_onednn_does_not_apply(case, onednn_on):
    layer, states = nn.Linear(8, 4), torch.randn(2, 8)
    seen = []
    if case == "forward hook":
        layer.register_forward_hook(lambda module, args, output: seen.append(output))
    if case == "bfloat16":
        layer, states = layer.to(torch.bfloat16), states.to(torch.bfloat16)
    if case == "subclass":  # e.g. a LoRA or quantized wrapper: it runs as itself
        layer = type("WrappedLinear", (nn.Linear,), {})(8, 4)
    if case == "meta":
        layer, states = layer.to("meta"), states.to("meta")
    with torch.set_grad_enabled(case == "gradients"):
        assert not linear_kernels.onednn_applies(layer, states)
        output = linear_kernels.linear(layer, states)
    if case == "forward hook":
        assert len(seen) == 1
    if case == "gradients":
        output.sum().backward()
        assert layer.weight.grad is not None


def test_model_forward_hooks_still_fire(onednn_on):
    """A hook on one of the encoder's linear layers (activation capture, pruning masks) still sees every call."""
    model = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(tiny_config())).eval()
    captured = []
    model.luke.encoder.layer[0].intermediate.dense.register_forward_hook(lambda *args: captured.append(args[2]))
    with torch.no_grad():
        model(**word_entity_batch())
    assert len(captured) == 1


@pytest.mark.parametrize("entity_aware", [False, True], ids=["plain", "entity_aware"])
def test_span_head_on_onednn_equals_intree(entity_aware, onednn_on):
    plugin, intree = model_pair(mluke_hf.MLukeForEntitySpanClassification, "LukeForEntitySpanClassification",
                                entity_aware, "sdpa")  # fmt: skip
    inputs = inputs_without_labels("entity_span")
    with torch.no_grad():
        ours, theirs = plugin(**inputs), intree(**inputs)
    assert_equal_on_real_rows("entity_span", ours, theirs, inputs)


@pytest.mark.parametrize(
    "activation,exact",
    [
        (ACT2FN["gelu"], True),
        (nn.GELU(), True),
        (nn.functional.gelu, True),
        (nn.GELU(approximate="tanh"), False),
        (ACT2FN["gelu_new"], False),
        (ACT2FN["relu"], False),
    ],
    ids=["ACT2FN-gelu", "nn.GELU", "F.gelu", "tanh", "gelu_new", "relu"],
)
def test_is_exact_gelu(activation, exact):
    assert linear_kernels.is_exact_gelu(activation) is exact


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_linear_gelu_fused_equals_unfused(dtype, onednn_on):
    if dtype == torch.bfloat16 and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        pytest.skip("this CPU has no bfloat16 support in oneDNN")  # the unfused path is then the only one
    torch.manual_seed(0)
    layer = nn.Linear(64, 256).to(dtype)
    states = torch.randn(40, 64, dtype=dtype)
    with torch.no_grad():
        assert linear_kernels.fused_gelu_applies(layer, states)
        fused = linear_kernels.linear_gelu(layer, states)
        reference = nn.functional.gelu(
            nn.functional.linear(states.double(), layer.weight.double(), layer.bias.double())
        )
    tolerance = 1e-5 if dtype == torch.float32 else 3e-2
    torch.testing.assert_close(fused.double(), reference, atol=tolerance, rtol=tolerance)
    with torch.enable_grad():
        assert not linear_kernels.fused_gelu_applies(layer, states)


def test_other_activations_are_not_fused(onednn_on, monkeypatch):
    """A checkpoint with another activation (e.g. gelu_new) runs it as configured, never the fused exact GELU."""
    model = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(tiny_config(hidden_act="gelu_new"))).eval()
    calls = []
    fused = linear_kernels.linear_gelu

    def spy(*args):
        calls.append(args)
        return fused(*args)

    monkeypatch.setattr(mluke_hf.modeling_mluke, "linear_gelu", spy)
    with torch.no_grad():
        model(**inputs_without_labels("entity_span"))
        assert not calls
        exact = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(tiny_config())).eval()
        exact(**inputs_without_labels("entity_span"))
    assert len(calls) == tiny_config().num_hidden_layers  # the spy sees the exact GELU's calls


def test_bf16_packed_forward_stays_close_to_fp32():
    """bf16 weights through packing, the fused GELU and sdpa per input: logits within bf16 rounding of fp32."""
    model = randomize_parameters(mluke_hf.MLukeForEntitySpanClassification(tiny_config())).eval()
    inputs = inputs_without_labels("entity_span")
    with torch.no_grad():
        full = model(**inputs).logits
        half = model.to(torch.bfloat16)(**inputs).logits
    rows = inputs["entity_attention_mask"].bool()
    assert half.dtype == torch.bfloat16
    torch.testing.assert_close(half[rows].float(), full[rows], atol=0.05, rtol=0.05)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_entity_aware_packed_inputs_without_entities_or_padding(dtype):
    """Entity-aware packed attention scores each input's words and entities with their own query halves: an input
    with no real entity, one with no padding at all and the rest must equal the padded computation."""
    model = randomize_parameters(mluke_hf.MLukeModel(tiny_config(use_entity_aware_attention=True))).eval().to(dtype)
    inputs = word_entity_batch()
    inputs["entity_attention_mask"][0] = 0  # input 0: words only
    inputs["attention_mask"][1] = 1  # input 1: every word and entity real
    inputs["entity_attention_mask"][1] = 1
    with torch.no_grad():
        packed = model(**inputs)
        padded = model(**inputs, keep_padding_rows=True)
    words, entities = inputs["attention_mask"].bool(), inputs["entity_attention_mask"].bool()
    tolerance = 1e-5 if dtype == torch.float32 else 3e-2
    for name, rows in (("last_hidden_state", words), ("entity_last_hidden_state", entities)):
        torch.testing.assert_close(
            packed[name][rows].float(), padded[name][rows].float(), atol=tolerance, rtol=tolerance, msg=name
        )
