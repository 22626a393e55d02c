"""Build a tokenizer folder of the released mluke-base shape for `bench_load.py`: deterministic, synthetic, cached.

    .venv/bin/python benchmarks/load_folder.py [--scale 1.0] [--folder DIR]

At scale 1.0: a unigram `sentencepiece.bpe.model` of 250,000 pieces (written as a ModelProto directly: training one
that large takes far too long; the normaliser, nmt_nfkc, comes from the committed test model) and an
`entity_vocab.json` of about 9.8M `"lang:title"` keys over 1.2M entity ids (~416 MB), titles in 24 languages and
11 scripts, `[PAD]`/`[UNK]`/`[MASK]` first and `[MASK2]` last as in the released file; plus the released
tokenizer_config.json, special_tokens_map.json and added_tokens.json. Smaller scales shrink the entity vocabulary and
the piece count alike (for quick runs and smoke tests). The folder is reused when its marker file says it was built
for the same scale by the same builder version.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NORMALIZER_SOURCE = REPO / "tests" / "data" / "tokenizer" / "sentencepiece_unigram.model"
BUILDER_VERSION = 1
FULL_PIECES = 250_000
FULL_ENTITY_IDS = 1_200_000
NAMES_PER_ENTITY = 8.15  # 9.78M keys over 1.2M ids in mluke-base

# Syllables per script; titles spell the entity id in the script's syllables (so every key is unique) plus a few
# seeded extra words.
SCRIPTS = {
    "latin": "ba be bi bo bu ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru sa se si so "
    "su ta te ti to tu va ve vi vo vu za ze zi zo zu ä ö ü é è ç ñ ø å ł ś ž",
    "cyrillic": "ба бе би бо бу ка ке ки ко ку ла ле ли ло лу ма ме ми мо му на не ни но ну ра ре ри ро ру ст ж ш щ ы "
    "я ю ё",
    "greek": "α β γ δ ε ζ η θ ι κ λ μ ν ξ ο π ρ σ τ υ φ χ ψ ω ά έ ή ί ό ύ ώ",
    "cjk": "日本東京大学国際中華人民共和山川田中村北南西島市県町区駅線語学院社会文化歴史科技電気通信鉄道海港湾空港",
    "kana": "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
    "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポー",
    "hangul": "가나다라마바사아자차카타파하서울대한민국시도구군읍면동역선강산섬",
    "arabic": "ال ب ت ث ج ح خ د ذ ر ز س ش ص ض ط ظ ع غ ف ق ك ل م ن ه و ي ة ى",
    "hebrew": "א ב ג ד ה ו ז ח ט י כ ל מ נ ס ע פ צ ק ר ש ת",
    "devanagari": "क का कि की ख ग घ च छ ज झ ट ठ ड त था द ध न प फ ब भ म य र ल व श स ह नी रा",
    "bengali": "ক কা খ গ ঘ চ ছ জ ট ড ত থ দ ধ ন প ফ ব ভ ম য র ল শ স হ",
    "thai": "ก ข ค ง จ ฉ ช ซ ญ ด ต ถ ท ธ น บ ป ผ พ ฟ ภ ม ย ร ล ว ศ ษ ส ห อ ฮ า ิ ี ุ ู เ แ โ",
}
# Scripts written with spaces list their syllables space-separated, the others one character per syllable.
SYLLABLES = {script: text.split() if " " in text else list(text) for script, text in SCRIPTS.items()}
LANGUAGES = {
    "en": "latin", "de": "latin", "fr": "latin", "es": "latin", "it": "latin", "nl": "latin", "pl": "latin",
    "pt": "latin", "sv": "latin", "tr": "latin", "vi": "latin", "id": "latin", "ru": "cyrillic", "uk": "cyrillic",
    "el": "greek", "zh": "cjk", "ja": "kana", "ko": "hangul", "ar": "arabic", "fa": "arabic", "he": "hebrew",
    "hi": "devanagari", "bn": "bengali", "th": "thai",
}  # fmt: skip
SPACED = {"latin", "cyrillic", "greek", "arabic", "hebrew", "devanagari", "bengali", "hangul"}


def spell(number: int, syllables: list[str]) -> str:
    """`number` written in base len(syllables) with the syllables as digits (injective: unique titles)."""
    base, digits = len(syllables), []
    while True:
        number, digit = divmod(number, base)
        digits.append(syllables[digit])
        if number == 0:
            return "".join(reversed(digits))


def entity_title(entity_id: int, language: str, rng: random.Random) -> str:
    script = LANGUAGES[language]
    syllables = SYLLABLES[script]
    words = [spell(entity_id, syllables)]
    for _ in range(rng.randrange(1, 4)):
        words.append("".join(rng.choice(syllables) for _ in range(rng.randrange(2, 5))))
    # The separator is no syllable, so the spelled id stays recognisable: keys never collide.
    separator = " " if script in SPACED or script == "thai" else "・"
    title = separator.join(words)
    return title[:1].upper() + title[1:] if script == "latin" else title


def entity_names(entity_id: int, rng: random.Random) -> list[str]:
    """The `lang:title` keys of one entity: about NAMES_PER_ENTITY languages of the 24."""
    count = min(len(LANGUAGES), max(1, round(rng.gauss(NAMES_PER_ENTITY, 4.0))))
    languages = rng.sample(sorted(LANGUAGES), count)
    return [f"{language}:{entity_title(entity_id, language, rng)}" for language in languages]


def write_entity_vocab(path: Path, entity_ids: int, seed: int = 0) -> int:
    """Stream `entity_vocab.json` (indent 2, UTF-8 unescaped); returns the number of keys."""
    rng = random.Random(seed)
    keys = 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{\n  "[PAD]": 0,\n  "[UNK]": 1,\n  "[MASK]": 2')
        keys += 3
        lines = []
        for entity_id in range(3, entity_ids):
            for name in entity_names(entity_id, rng):
                lines.append(f",\n  {json.dumps(name, ensure_ascii=False)}: {entity_id}")
            if len(lines) > 65536:
                keys += len(lines)
                handle.write("".join(lines))
                lines = []
        keys += len(lines) + 1
        handle.write("".join(lines))
        handle.write(f',\n  "[MASK2]": {entity_ids}\n}}\n')
    return keys


def sentencepiece_pieces(count: int, seed: int = 0) -> list[str]:
    """`count - 3` distinct pieces: every syllable alone and after `▁`, then seeded syllable pairs and triples."""
    rng = random.Random(seed)
    syllables = sorted({syllable for group in SYLLABLES.values() for syllable in group} | set("0123456789.,-()'"))
    pieces = dict.fromkeys(["▁", *syllables, *("▁" + s for s in syllables)])
    while len(pieces) < count - 3:
        word = "".join(rng.choice(syllables) for _ in range(rng.choice((2, 2, 3))))
        pieces.setdefault(("▁" + word) if rng.random() < 0.5 else word)
    return list(pieces)[: count - 3]


def write_sentencepiece_model(path: Path, pieces: int, seed: int = 0) -> None:
    """A unigram ModelProto in XLM-R's layout (`<unk>`, `<s>`, `</s>`, then pieces by decreasing score)."""
    from sentencepiece import sentencepiece_model_pb2

    source = sentencepiece_model_pb2.ModelProto()
    source.ParseFromString(NORMALIZER_SOURCE.read_bytes())
    proto = sentencepiece_model_pb2.ModelProto()
    proto.trainer_spec.CopyFrom(source.trainer_spec)
    proto.normalizer_spec.CopyFrom(source.normalizer_spec)
    proto.trainer_spec.vocab_size = pieces
    proto.pieces.add(piece="<unk>", score=0.0, type=2)
    proto.pieces.add(piece="<s>", score=0.0, type=3)
    proto.pieces.add(piece="</s>", score=0.0, type=3)
    for rank, piece in enumerate(sentencepiece_pieces(pieces, seed)):
        # Single characters score highest, as in a trained model, so every text of these scripts segments.
        proto.pieces.add(piece=piece, score=-2.0 - rank * 1e-4 - len(piece) * 0.5, type=1)
    path.write_bytes(proto.SerializeToString())


def write_released_files(folder: Path) -> None:
    """tokenizer_config.json, special_tokens_map.json and added_tokens.json as mluke-base has them."""
    reference = REPO.parent / "shared" / "reference" / "mluke-base"
    for name in ("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"):
        source = reference / name
        if source.exists():
            (folder / name).write_bytes(source.read_bytes())
        else:
            raise FileNotFoundError(
                f"{source} is missing: the released small files of mluke-base come from ../shared/reference"
            )


def build_folder(scale: float = 1.0, folder: Path | None = None) -> Path:
    """The benchmark folder for `scale` (1.0 = released size), built once and reused."""
    if folder is None:
        folder = Path(tempfile.gettempdir()) / f"mluke_hf_bench_load_{scale:g}"
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "built.json"
    wanted = {"scale": scale, "builder_version": BUILDER_VERSION}
    if marker.exists() and json.loads(marker.read_text()).get("build") == wanted:
        return folder
    pieces = max(600, int(FULL_PIECES * scale))
    entity_ids = max(10, int(FULL_ENTITY_IDS * scale))
    write_sentencepiece_model(folder / "sentencepiece.bpe.model", pieces)
    keys = write_entity_vocab(folder / "entity_vocab.json", entity_ids)
    write_released_files(folder)
    size = (folder / "entity_vocab.json").stat().st_size
    marker.write_text(json.dumps({"build": wanted, "pieces": pieces, "entity_ids": entity_ids + 1, "keys": keys,
                                  "entity_vocab_bytes": size}))  # fmt: skip
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--folder", type=Path, default=None)
    options = parser.parse_args()
    folder = build_folder(options.scale, options.folder)
    print(folder, (folder / "built.json").read_text())


if __name__ == "__main__":
    main()
