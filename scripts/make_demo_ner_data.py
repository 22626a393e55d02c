"""Generate the demo NER set shipped in `mluke_hf/data/demo_ner/` (deterministic; rerun to reproduce it exactly).

The sentences are written for this project: per language (en, de, es, fr, nl) 18 hand-written templates with
PER / LOC / ORG slots, filled from hand-made name lists. 250 training sentences per language: with 70, the demo's
model (trained from scratch) memorised names and reached only ~0.76 held-out F1. A fifth of every name list is kept for the held-out
split only, and held-out sentences never repeat a training sentence, so the held-out F1 measures more than recall
of memorised strings. Output: `train.jsonl` and `heldout.jsonl`, one sentence per line as
`{"text", "language", "entities": [{"start", "end", "label"}]}` with character spans on word boundaries.

    python scripts/make_demo_ner_data.py [--output-dir mluke_hf/data/demo_ner]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from mluke_hf.tasks.ner import split_words

SEED = 20261125
TRAIN_PER_LANGUAGE = 250
HELDOUT_PER_LANGUAGE = 20
HELDOUT_NAME_FRACTION = 0.2

# Names shared by all languages (people keep their names across languages); places and organisations are
# spelled per language where they differ.
PERSONS = {
    "en": ["John Smith", "Mary Johnson", "Robert Brown", "Linda Davis", "James Wilson", "Emily Clark", "David Miller",
           "Sarah Lewis", "Michael Turner", "Laura Walker", "Thomas Wright", "Anna Hughes", "Peter Collins",
           "Helen Baker", "George Harris", "Alice Cooper", "Daniel Scott", "Grace Evans", "Oliver Reed", "Kate Morgan"],
    "de": ["Hans Müller", "Anna Schmidt", "Klaus Fischer", "Petra Weber", "Jürgen Wagner", "Sabine Becker",
           "Stefan Hoffmann", "Monika Schulz", "Wolfgang Koch", "Ursula Richter", "Markus Klein", "Heike Wolf",
           "Frank Neumann", "Julia Schwarz", "Dieter Braun", "Katrin Zimmermann", "Lukas Hartmann", "Lena Krüger",
           "Tobias Lange", "Miriam Vogel"],
    "es": ["Carlos García", "María López", "José Martínez", "Lucía Sánchez", "Antonio Pérez", "Carmen Gómez",
           "Manuel Fernández", "Isabel Ruiz", "Javier Díaz", "Elena Moreno", "Francisco Romero", "Pilar Navarro",
           "Miguel Torres", "Rosa Domínguez", "Pablo Vázquez", "Sofía Ramos", "Diego Castro", "Marta Ortega",
           "Andrés Molina", "Teresa Delgado"],
    "fr": ["Jean Dupont", "Marie Martin", "Pierre Bernard", "Sophie Dubois", "Michel Thomas", "Claire Robert",
           "Nicolas Petit", "Isabelle Durand", "Philippe Leroy", "Camille Moreau", "Julien Simon", "Nathalie Laurent",
           "François Lefèvre", "Céline Michel", "Antoine Garnier", "Élodie Faure", "Louis Rousseau", "Chloé Blanc",
           "Hugo Fontaine", "Manon Chevalier"],
    "nl": ["Jan de Vries", "Sanne Jansen", "Pieter Bakker", "Femke Visser", "Willem Smit", "Lotte Meijer",
           "Thijs de Boer", "Eva Mulder", "Daan de Groot", "Anouk Bos", "Bram Vos", "Iris Peters", "Ruben Hendriks",
           "Noor van Dijk", "Sem Dekker", "Fleur Brouwer", "Lars de Wit", "Tess Dijkstra", "Joris Smits",
           "Maaike Kok"],
}

LOCATIONS = {
    "en": ["London", "Paris", "Berlin", "Madrid", "Amsterdam", "New York", "Tokyo", "Rome", "Vienna", "Lisbon",
           "Chicago", "Toronto", "Sydney", "Dublin", "Prague", "Germany", "Spain", "Japan", "Canada", "Brazil",
           "Mexico City", "Cape Town", "Oslo", "Warsaw", "Egypt"],
    "de": ["Berlin", "München", "Hamburg", "Köln", "Frankfurt", "Wien", "Zürich", "Paris", "London", "Rom",
           "Leipzig", "Dresden", "Stuttgart", "Bremen", "Prag", "Deutschland", "Österreich", "Frankreich", "Spanien",
           "Italien", "Japan", "Kanada", "Polen", "Schweden", "Ägypten"],
    "es": ["Madrid", "Barcelona", "Sevilla", "Valencia", "Bilbao", "Buenos Aires", "Lima", "Bogotá", "Santiago",
           "Quito", "Londres", "París", "Berlín", "Roma", "Lisboa", "España", "México", "Argentina", "Francia",
           "Alemania", "Japón", "Chile", "Perú", "Colombia", "Nueva York"],
    "fr": ["Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux", "Lille", "Nantes", "Genève", "Bruxelles", "Montréal",
           "Londres", "Berlin", "Madrid", "Rome", "Tokyo", "France", "Belgique", "Suisse", "Canada", "Allemagne",
           "Espagne", "Italie", "Japon", "Maroc", "Sénégal"],
    "nl": ["Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Groningen", "Antwerpen", "Gent", "Brussel",
           "Leiden", "Maastricht", "Londen", "Parijs", "Berlijn", "Madrid", "Nederland", "België", "Duitsland",
           "Frankrijk", "Spanje", "Italië", "Japan", "Canada", "Zweden", "Noorwegen"],
}

ORGANIZATIONS = {
    "en": ["Microsoft", "Google", "the United Nations", "Oxford University", "the BBC", "General Motors", "Amazon",
           "the World Bank", "Boeing", "Harvard University", "the Red Cross", "Apple", "Reuters", "Unilever",
           "the European Commission", "Intel", "Pfizer", "Greenpeace", "Tesla", "Netflix"],
    "de": ["Siemens", "Volkswagen", "die Deutsche Bahn", "BMW", "Bayer", "die Universität Heidelberg", "Adidas",
           "der FC Bayern München", "Lufthansa", "SAP", "Bosch", "die Allianz", "Porsche", "Daimler",
           "die Bundesbank", "Henkel", "Zalando", "BASF", "Audi", "Puma"],
    "es": ["Telefónica", "el Banco Santander", "Iberia", "el Real Madrid", "Repsol", "la Universidad de Salamanca",
           "Zara", "Inditex", "el FC Barcelona", "Mercadona", "Seat", "Endesa", "Mapfre", "Renfe", "el BBVA",
           "Naturgy", "Ferrovial", "Acciona", "Mango", "Iberdrola"],
    "fr": ["Renault", "Airbus", "la SNCF", "Total", "Danone", "la Sorbonne", "Michelin", "Peugeot", "Orange",
           "le Crédit Agricole", "Air France", "Carrefour", "Chanel", "Sanofi", "Thales", "Dior", "Hermès",
           "la BNP Paribas", "Alstom", "Décathlon"],
    "nl": ["Philips", "Shell", "Heineken", "de Universiteit Leiden", "Ajax", "KLM", "ING", "ASML", "Unilever",
           "de Rabobank", "Albert Heijn", "Booking", "Rijkswaterstaat", "TomTom", "Randstad", "PSV", "Feyenoord",
           "de Nederlandse Spoorwegen", "DSM", "Ahold"],
}

# Templates: {PER}, {LOC}, {ORG} slots; a slot may appear with a suffix digit ({LOC2}) to take a second name.
TEMPLATES = {
    "en": [
        "{PER} was born in {LOC} and later moved to {LOC2}.",
        "{PER} works as an engineer at {ORG} in {LOC}.",
        "Yesterday {PER} met {PER2} at a conference in {LOC}.",
        "{ORG} announced on Monday that it will open a new office in {LOC}.",
        "According to {PER}, {ORG} plans to hire two hundred people next year.",
        "The train from {LOC} to {LOC2} was delayed by almost an hour.",
        "{PER} has been the director of {ORG} since 2015.",
        "Last summer we spent two weeks in {LOC} with our friends.",
        "In an interview, {PER} said that {LOC} is her favourite city.",
        "{ORG} and {ORG2} signed a partnership agreement in {LOC}.",
        "The weather in {LOC} was cold and rainy all week.",
        "{PER} studied law before joining {ORG}.",
        "Thousands of fans welcomed {PER} at the airport in {LOC}.",
        "The new museum in {LOC} attracts many visitors every day.",
        "Shares of {ORG} rose sharply after the announcement.",
        "My neighbour bought a small house near the river last year.",
        "The meeting between {PER} and the team lasted three hours.",
        "{PER} wrote a book about the history of {LOC}.",
    ],
    "de": [
        "{PER} wurde in {LOC} geboren und zog später nach {LOC2}.",
        "{PER} arbeitet als Ingenieur bei {ORG} in {LOC}.",
        "Gestern traf {PER} auf einer Konferenz in {LOC} die Kollegin {PER2}.",
        "{ORG} kündigte am Montag an, ein neues Büro in {LOC} zu eröffnen.",
        "Laut {PER} will {ORG} im nächsten Jahr zweihundert Menschen einstellen.",
        "Der Zug von {LOC} nach {LOC2} hatte fast eine Stunde Verspätung.",
        "{PER} leitet seit 2015 die Abteilung bei {ORG}.",
        "Letzten Sommer verbrachten wir zwei Wochen in {LOC}.",
        "In einem Interview sagte {PER}, dass {LOC} ihre Lieblingsstadt sei.",
        "{ORG} und {ORG2} unterzeichneten in {LOC} einen Vertrag.",
        "Das Wetter in {LOC} war die ganze Woche kalt und regnerisch.",
        "{PER} studierte Jura, bevor sie zu {ORG} ging.",
        "Tausende Fans empfingen {PER} am Flughafen von {LOC}.",
        "Das neue Museum in {LOC} zieht jeden Tag viele Besucher an.",
        "Die Aktien von {ORG} stiegen nach der Ankündigung deutlich.",
        "Mein Nachbar hat letztes Jahr ein kleines Haus am Fluss gekauft.",
        "Das Treffen zwischen {PER} und dem Team dauerte drei Stunden.",
        "{PER} schrieb ein Buch über die Geschichte von {LOC}.",
    ],
    "es": [
        "{PER} nació en {LOC} y más tarde se mudó a {LOC2}.",
        "{PER} trabaja como ingeniero en {ORG} en {LOC}.",
        "Ayer {PER} conoció a {PER2} en una conferencia en {LOC}.",
        "{ORG} anunció el lunes que abrirá una nueva oficina en {LOC}.",
        "Según {PER}, {ORG} planea contratar a doscientas personas el próximo año.",
        "El tren de {LOC} a {LOC2} llegó con casi una hora de retraso.",
        "{PER} es directora de {ORG} desde 2015.",
        "El verano pasado pasamos dos semanas en {LOC} con unos amigos.",
        "En una entrevista, {PER} dijo que {LOC} es su ciudad favorita.",
        "{ORG} y {ORG2} firmaron un acuerdo de colaboración en {LOC}.",
        "El tiempo en {LOC} fue frío y lluvioso toda la semana.",
        "{PER} estudió derecho antes de entrar en {ORG}.",
        "Miles de aficionados recibieron a {PER} en el aeropuerto de {LOC}.",
        "El nuevo museo de {LOC} atrae a muchos visitantes cada día.",
        "Las acciones de {ORG} subieron con fuerza tras el anuncio.",
        "Mi vecino compró una casa pequeña cerca del río el año pasado.",
        "La reunión entre {PER} y el equipo duró tres horas.",
        "{PER} escribió un libro sobre la historia de {LOC}.",
    ],
    "fr": [
        "{PER} est né à {LOC} et a ensuite déménagé à {LOC2}.",
        "{PER} travaille comme ingénieur chez {ORG} à {LOC}.",
        "Hier, {PER} a rencontré {PER2} lors d'une conférence à {LOC}.",
        "{ORG} a annoncé lundi l'ouverture d'un nouveau bureau à {LOC}.",
        "Selon {PER}, {ORG} prévoit d'embaucher deux cents personnes l'an prochain.",
        "Le train de {LOC} à {LOC2} avait presque une heure de retard.",
        "{PER} dirige {ORG} depuis 2015.",
        "L'été dernier, nous avons passé deux semaines à {LOC} avec des amis.",
        "Dans un entretien, {PER} a déclaré que {LOC} est sa ville préférée.",
        "{ORG} et {ORG2} ont signé un accord de partenariat à {LOC}.",
        "Le temps à {LOC} a été froid et pluvieux toute la semaine.",
        "{PER} a étudié le droit avant de rejoindre {ORG}.",
        "Des milliers de fans ont accueilli {PER} à l'aéroport de {LOC}.",
        "Le nouveau musée de {LOC} attire chaque jour de nombreux visiteurs.",
        "Les actions de {ORG} ont fortement augmenté après l'annonce.",
        "Mon voisin a acheté une petite maison près de la rivière l'an dernier.",
        "La réunion entre {PER} et l'équipe a duré trois heures.",
        "{PER} a écrit un livre sur l'histoire de {LOC}.",
    ],
    "nl": [
        "{PER} werd geboren in {LOC} en verhuisde later naar {LOC2}.",
        "{PER} werkt als ingenieur bij {ORG} in {LOC}.",
        "Gisteren ontmoette {PER} collega {PER2} op een congres in {LOC}.",
        "{ORG} maakte maandag bekend dat het een nieuw kantoor in {LOC} opent.",
        "Volgens {PER} wil {ORG} volgend jaar tweehonderd mensen aannemen.",
        "De trein van {LOC} naar {LOC2} had bijna een uur vertraging.",
        "{PER} is sinds 2015 directeur van {ORG}.",
        "Vorige zomer brachten we twee weken door in {LOC} met vrienden.",
        "In een interview zei {PER} dat {LOC} haar favoriete stad is.",
        "{ORG} en {ORG2} tekenden in {LOC} een samenwerkingsovereenkomst.",
        "Het weer in {LOC} was de hele week koud en regenachtig.",
        "{PER} studeerde rechten voordat ze bij {ORG} ging werken.",
        "Duizenden fans verwelkomden {PER} op het vliegveld van {LOC}.",
        "Het nieuwe museum in {LOC} trekt elke dag veel bezoekers.",
        "De aandelen van {ORG} stegen flink na de aankondiging.",
        "Mijn buurman kocht vorig jaar een klein huis bij de rivier.",
        "De vergadering tussen {PER} en het team duurde drie uur.",
        "{PER} schreef een boek over de geschiedenis van {LOC}.",
    ],
}

SLOT_PATTERN = re.compile(r"\{(PER|LOC|ORG)(\d?)\}")
# Articles that belong to the sentence, not to the organisation's name ("the United Nations" -> "United Nations").
ARTICLES = {"the", "die", "der", "el", "la", "le", "de"}


def split_names(names: list[str], rng: random.Random) -> tuple[list[str], list[str]]:
    """Shuffle a copy of `names`; the first fifth becomes held-out only."""
    names = list(names)
    rng.shuffle(names)
    cut = max(1, round(len(names) * HELDOUT_NAME_FRACTION))
    return names[cut:], names[:cut]


def fill(template: str, pools: dict[str, list[str]], rng: random.Random) -> dict:
    """One sentence from a template: text and character spans of the entities (articles left outside)."""
    text, entities, position, used = "", [], 0, set()
    for match in SLOT_PATTERN.finditer(template):
        text += template[position : match.start()]
        label = match.group(1)
        name = rng.choice([candidate for candidate in pools[label] if candidate not in used])
        used.add(name)
        first, _, rest = name.partition(" ")
        if label == "ORG" and first in ARTICLES and rest:
            text += first + " "
            name = rest
        if not text or text.endswith((". ", "? ")):
            name = name[0].upper() + name[1:]
        entities.append({"start": len(text), "end": len(text) + len(name), "label": label})
        text += name
        position = match.end()
    text += template[position:]
    text = text[0].upper() + text[1:]
    return {"text": text, "entities": entities}


def check_word_boundaries(record: dict) -> None:
    offsets = split_words(record["text"])
    starts, ends = {start for start, _ in offsets}, {end for _, end in offsets}
    for entity in record["entities"]:
        if entity["start"] not in starts or entity["end"] not in ends:
            raise AssertionError(f"entity {entity} is not word-aligned in {record['text']!r}")


def generate(seed: int = SEED) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    train, heldout = [], []
    for language, templates in TEMPLATES.items():
        pools_train, pools_heldout = {}, {}
        for label, table in (("PER", PERSONS), ("LOC", LOCATIONS), ("ORG", ORGANIZATIONS)):
            pools_train[label], only_heldout = split_names(table[language], rng)
            pools_heldout[label] = pools_train[label] + only_heldout
        seen, attempt = set(), 0
        while len([r for r in train if r["language"] == language]) < TRAIN_PER_LANGUAGE:
            record = fill(templates[attempt % len(templates)], pools_train, rng)
            attempt += 1
            # Sentences without slots occur once; others are kept only when new.
            if record["text"] not in seen:
                seen.add(record["text"])
                train.append({"text": record["text"], "language": language, "entities": record["entities"]})
        count = 0
        while count < HELDOUT_PER_LANGUAGE:
            record = fill(rng.choice(templates), pools_heldout, rng)
            if record["text"] not in seen:
                seen.add(record["text"])
                heldout.append({"text": record["text"], "language": language, "entities": record["entities"]})
                count += 1
    for record in train + heldout:
        check_word_boundaries(record)
    return train, heldout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent.parent / "mluke_hf" / "data" / "demo_ner"
    parser.add_argument("--output-dir", type=Path, default=default)
    args = parser.parse_args()
    train, heldout = generate()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name, records in (("train.jsonl", train), ("heldout.jsonl", heldout)):
        with open(args.output_dir / name, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(train)} training and {len(heldout)} held-out sentences to {args.output_dir}")


if __name__ == "__main__":
    main()
