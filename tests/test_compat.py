"""The supported transformers range and how registration behaves when transformers lacks something it needs.

CI runs this file (with the registration, checkpoint, golden-tokenizer and pipeline tests) on the oldest supported
transformers as well as on the one the README's test command installs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import transformers
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from test_registration_models import TINY
from transformers import AutoConfig, AutoModel, AutoTokenizer, pipeline

import mluke_hf
from mluke_hf import compat, registration

ROOT = Path(__file__).resolve().parents[1]
QUESTION, CONTEXT = "東京はどこにありますか?", "東京は日本の首都です。 नई दिल्ली भारत की राजधानी है।"


def _declared_transformers_requirement() -> str:
    # tomllib is 3.11+, and the package supports 3.10: the dependency line is found by pattern.
    (requirement,) = re.findall(
        r'^\s*"(transformers[<>=!~ ].*?)",', (ROOT / "pyproject.toml").read_text(), re.MULTILINE
    )
    return requirement


# -- the declared range -----------------------------------------------------------------------------------------------


def test_declared_range_is_the_supported_one_and_includes_this_transformers():
    requirement = _declared_transformers_requirement()
    assert requirement == f"transformers{compat.SUPPORTED_TRANSFORMERS}"
    specifiers = SpecifierSet(compat.SUPPORTED_TRANSFORMERS)
    assert Version(transformers.__version__) in specifiers
    assert all(Version(version) in specifiers for version in compat.TESTED_TRANSFORMERS)
    assert Version("5.9.0") not in specifiers and Version("6.0.0") not in specifiers


def test_a_transformers_outside_the_range_is_named_at_import():
    assert compat.unsupported_version_message() is None
    for version in ("5.10.0", "5.24.0", "5.99.1", "5.25.0.dev0"):
        assert compat.unsupported_version_message(version) is None, version
    for version in ("5.0.0", "5.9.0", "4.57.6", "6.0.0", "not-a-version"):
        message = compat.unsupported_version_message(version)
        assert message.startswith(f"transformers {version} is outside") and compat.SUPPORTED_TRANSFORMERS in message
    with pytest.warns(compat.UnsupportedTransformersWarning, match=r"transformers 5\.9\.0 is outside"):
        compat.warn_if_unsupported("5.9.0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compat.warn_if_unsupported()  # the installed one is supported: silent


def test_readme_and_architecture_doc_name_the_tested_versions():
    for document in ("README.md", "docs/architecture.md"):
        text = (ROOT / document).read_text()
        assert compat.SUPPORTED_TRANSFORMERS in text, document
        for version in compat.TESTED_TRANSFORMERS:
            assert version in text, (document, version)


def test_ci_runs_the_subset_on_the_oldest_tested_release():
    ci = (ROOT / ".ci" / "run").read_text()
    assert f'OLDEST_TRANSFORMERS="{compat.TESTED_TRANSFORMERS[0]}"' in ci
    assert '"transformers==$OLDEST_TRANSFORMERS"' in ci and "tests/test_compat.py" in ci


# -- registration on this transformers --------------------------------------------------------------------------------


def test_every_registration_step_succeeded_here():
    assert registration.registration_problems() == []
    registration.check_registration()  # does not raise


def test_registration_goes_through_the_public_apis():
    from transformers.pipelines import PIPELINE_REGISTRY

    assert AutoConfig.for_model("mluke").__class__ is mluke_hf.MLukeConfig
    assert type(AutoModel.from_config(mluke_hf.MLukeConfig(**TINY))) is mluke_hf.MLukeModel
    from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING

    for config_class in (mluke_hf.MLukeConfig, mluke_hf.LukeFormatConfig):
        assert TOKENIZER_MAPPING[config_class] is mluke_hf.MLukeTokenizerFast
    assert compat.tokenizer_class_from_name("MLukeTokenizer") is mluke_hf.MLukeTokenizerFast
    assert compat.tokenizer_class_from_name("MLukeTokenizerFast") is mluke_hf.MLukeTokenizerFast
    for task in (
        "entity-span-classification",
        "entity-classification",
        "entity-pair-classification",
        "entity-fill-mask",
        "question-answering",
    ):
        assert PIPELINE_REGISTRY.check_task(task)[1]["impl"].__module__.startswith("mluke_hf.pipelines."), task
    assert "question-answering" not in compat.removed_task_notices()


# -- a transformers that lacks an internal ----------------------------------------------------------------------------


def test_missing_internal_names_the_version_and_what_is_missing(monkeypatch):
    from transformers.models.auto import auto_factory

    monkeypatch.delattr(auto_factory, "_LazyAutoMapping")
    with pytest.raises(compat.MissingTransformersInternal) as caught:
        compat.auto_factory_internals()
    message = str(caught.value)
    assert f"transformers {transformers.__version__} has no" in message
    assert "transformers.models.auto.auto_factory._LazyAutoMapping" in message
    assert compat.SUPPORTED_TRANSFORMERS in message and compat.TESTED_TRANSFORMERS[-1] in message


def test_routing_without_the_config_mapping_internal_fails_clearly(monkeypatch):
    from transformers.models.auto import configuration_auto

    monkeypatch.setattr(configuration_auto, "CONFIG_MAPPING", object())
    with pytest.raises(compat.MissingTransformersInternal, match=r"CONFIG_MAPPING\._extra_content"):
        mluke_hf.route_luke_checkpoints(False)
    with pytest.raises(compat.MissingTransformersInternal, match=re.escape(transformers.__version__)):
        mluke_hf.luke_checkpoints_routed()


def test_a_failed_step_warns_is_listed_and_check_registration_raises(monkeypatch):
    monkeypatch.setattr(registration, "_PROBLEMS", [])

    def _register_something() -> None:
        compat.transformers_internal("transformers", "NoSuchThing", "do something")

    with pytest.warns(registration.RegistrationWarning, match=r"transformers\.NoSuchThing") as record:
        registration._run_step(_register_something, "something no longer works.")
    message = str(record[0].message)
    assert f"transformers {transformers.__version__}" in message and "something no longer works." in message
    assert registration.registration_problems() == [message]
    with pytest.raises(RuntimeError, match="only partly registered"):
        registration.check_registration()


def test_one_missing_auto_class_spares_the_others(monkeypatch):
    """A release without one of transformers' Auto classes: that one is reported, every other one is registered."""
    from transformers.models.auto import modeling_auto

    entries = registration._model_auto_classes()
    missing = ("AutoModelForNoSuchHead", mluke_hf.MLukeForSequenceClassification)
    monkeypatch.setattr(registration, "_model_auto_classes", lambda: [missing, *entries])
    mapping = AutoModel._model_mapping
    monkeypatch.delitem(mapping._extra_content, mluke_hf.LukeFormatConfig)  # restored after the test
    with pytest.raises(compat.MissingTransformersInternal) as caught:
        registration._register_models()
    message = str(caught.value)
    assert message.startswith("AutoModelForNoSuchHead: ") and "`transformers.AutoModelForNoSuchHead`" in message
    assert f"transformers {transformers.__version__}" in message
    assert mapping[mluke_hf.LukeFormatConfig] is mluke_hf.MLukeModel  # registered again after the failed one
    assert modeling_auto.AutoModelForMaskedLM._model_mapping[mluke_hf.LukeFormatConfig] is mluke_hf.MLukeForMaskedLM


def test_import_survives_a_missing_internal_and_only_the_affected_part_fails():
    """A fresh interpreter whose transformers lacks `_LazyAutoMapping`: the package imports, warns once, the core
    registration works, and the entity-head Auto classes raise the message instead of an AttributeError."""
    script = """
import warnings
warnings.simplefilter("always")
import transformers.pipelines  # transformers' own Auto classes bind the name first; only later lookups miss it
from transformers.models.auto import auto_factory
del auto_factory._LazyAutoMapping
with warnings.catch_warnings(record=True) as caught:
    import mluke_hf
from transformers import AutoConfig, AutoModel
config = mluke_hf.MLukeConfig(vocab_size=40, entity_vocab_size=5, hidden_size=16, entity_emb_size=8,
                              num_hidden_layers=1, num_attention_heads=2, intermediate_size=8)
print("WARNINGS", [type(w.message).__name__ for w in caught])
print("MESSAGE", str(caught[0].message).replace(chr(10), " "))
print("AUTOMODEL", type(AutoModel.from_config(config)).__name__, mluke_hf.luke_checkpoints_routed())
try:
    mluke_hf.AutoModelForEntitySpanClassification.from_config(config)
except mluke_hf.compat.MissingTransformersInternal as error:
    print("ENTITY_AUTO", "MissingTransformersInternal", "_LazyAutoMapping" in str(error))
print("PROBLEMS", len(mluke_hf.registration.registration_problems()))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["WARNINGS"] == "['RegistrationWarning']", result.stdout + result.stderr
    message = lines["MESSAGE"]
    assert f"transformers {transformers.__version__}" in message
    assert "transformers.models.auto.auto_factory._LazyAutoMapping" in message
    assert "AutoModelForEntitySpanClassification" in message and "register_models" in message
    assert lines["AUTOMODEL"] == "MLukeModel True"
    assert lines["ENTITY_AUTO"] == "MissingTransformersInternal True"
    assert lines["PROBLEMS"] == "1"


# -- question-answering serves mLUKE/LUKE models only -----------------------------------------------------------------


def _tiny_bert_qa_folder(folder: Path) -> Path:
    """A tiny BERT question-answering folder with a fast WordLevel tokenizer over CJK and Devanagari words."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForQuestionAnswering, PreTrainedTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", *QUESTION.split(), *CONTEXT.split()]
    backend = Tokenizer(models.WordLevel({word: index for index, word in enumerate(dict.fromkeys(words))}, "[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=8,
        max_position_embeddings=32,
    )
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_question_answering_refuses_other_models(tmp_path):
    folder = _tiny_bert_qa_folder(tmp_path / "bert-qa")
    with pytest.raises(ValueError, match="serves mLUKE and LUKE models only") as caught:
        pipeline("question-answering", model=str(folder))
    assert "'bert'" in str(caught.value)
    from transformers import BertForQuestionAnswering

    model = BertForQuestionAnswering.from_pretrained(folder)
    with pytest.raises(ValueError, match="BertForQuestionAnswering with model_type 'bert'"):
        mluke_hf.MLukeQuestionAnsweringPipeline(model=model, tokenizer=AutoTokenizer.from_pretrained(folder))


def test_question_answering_serves_released_luke_folders_with_routing_on_and_off(tiny_checkpoint_factory):
    folder = tiny_checkpoint_factory(architecture="LukeForQuestionAnswering")
    answers = {}
    try:
        for routed in (True, False):
            mluke_hf.route_luke_checkpoints(routed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the in-tree LUKE classes may warn on import
                qa = pipeline("question-answering", model=str(folder))
            assert qa.model.config.model_type == "luke"
            assert type(qa.model).__module__.startswith("mluke_hf." if routed else "transformers.models.luke")
            answer = qa(question=QUESTION, context=CONTEXT)
            assert answer["answer"] == CONTEXT[answer["start"] : answer["end"]] and answer["answer"]
            answers[routed] = answer
    finally:
        mluke_hf.route_luke_checkpoints(True)
    # Same weights and tokenizer: the plugin's model and transformers' in-tree one pick the same span.
    assert answers[True]["start"] == answers[False]["start"] and answers[True]["end"] == answers[False]["end"]
