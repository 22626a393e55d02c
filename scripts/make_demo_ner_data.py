"""Generate the demo NER set shipped in `mluke_hf/data/demo_ner/` (deterministic; rerun to reproduce it exactly).

The sentences are written for this project: per language (en, de, es, fr, nl, then ja, zh, th, hi, ar, ko) 18
hand-written templates with PER / LOC / ORG slots, filled from hand-made name lists. Chinese, Japanese and Thai are
written without spaces, as those languages are; Korean names carry their particles (`서울에서`) and Arabic ones their
clitics (`وباريس`), so entities start and end inside whitespace tokens there. (Korean writes the title `씨` apart:
`김민준 씨`.) 250 training sentences per language:
with 70, the demo's model (trained from scratch) memorised names and reached only ~0.76 held-out F1. A fifth of every
name list is kept for the held-out split only, and held-out sentences never repeat a training sentence, so the
held-out F1 measures more than recall of memorised strings. Languages are generated in a fixed order from one
random stream, so adding languages at the end leaves the earlier ones' sentences unchanged. Output: `train.jsonl`
and `heldout.jsonl`, one sentence per line as `{"text", "language", "entities": [{"start", "end", "label"}]}` with
character spans on grapheme boundaries (on word boundaries in space-separated text).

    python scripts/make_demo_ner_data.py [--output-dir mluke_hf/data/demo_ner]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from mluke_hf.tasks.ner.boundaries import coarse_units, grapheme_starts

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
    "ja": ["田中太郎", "鈴木花子", "佐藤健", "高橋美咲", "伊藤大輔", "渡辺由美", "山本翔太", "中村さくら", "小林直樹",
           "加藤恵", "吉田拓也", "山田優子", "佐々木誠", "松本彩", "井上隆", "木村真理", "林浩二", "清水愛", "山口修",
           "森田涼子"],
    "zh": ["王伟", "李娜", "张强", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴敏", "徐明", "孙悦", "马超", "朱琳",
           "胡军", "郭婷", "何平", "高翔", "林芳", "罗斌"],
    "th": ["สมชาย ใจดี", "สมศรี สุขใจ", "ประยุทธ มั่นคง", "วิไล แสงทอง", "อนุชา ศรีสุข", "มาลี รุ่งเรือง", "ธนากร วงศ์ใหญ่",
           "สุดา พรหมมา", "กิตติ ทองดี", "นภา ศักดิ์ดี", "วีระ บุญมา", "พิมพ์ใจ ชัยวัฒน์", "ชัยวัฒน์ แก้วมณี", "อรุณี มีสุข",
           "สมศักดิ์ เพชรรัตน์", "จันทร์เพ็ญ ทองคำ", "ณัฐพล สุวรรณ", "ปรียา ศรีวงศ์", "วรวุฒิ จันทร์ดี", "รัตนา ใจงาม"],
    "hi": ["राहुल शर्मा", "प्रिया वर्मा", "अमित कुमार", "सुनीता यादव", "विकास गुप्ता", "अंजलि सिंह", "रोहित मेहता", "नेहा जोशी",
           "संजय पटेल", "पूजा मिश्रा", "अर्जुन रेड्डी", "कविता नायर", "मनोज तिवारी", "दीपिका चौधरी", "सुरेश पांडे", "रीना कपूर",
           "आदित्य सक्सेना", "स्नेहा अग्रवाल", "करण मल्होत्रा", "मीरा अय्यर"],
    "ar": ["محمد علي", "أحمد حسن", "فاطمة الزهراء", "ليلى خالد", "عمر فاروق", "سارة يوسف", "خالد منصور", "نور الهدى",
           "يوسف إبراهيم", "مريم سعيد", "حسن كمال", "هدى عادل", "طارق زياد", "رانيا سمير", "سامي نبيل", "دينا فؤاد",
           "كريم جمال", "سلمى رشيد", "ياسر عمرو", "منى شريف"],
    "ko": ["김민준", "이서연", "박지훈", "최수빈", "정우진", "강하은", "조현우", "윤지민", "장성민", "임수진", "한동훈", "오지현",
           "서준호", "신예린", "권태양", "황보라", "안재민", "송미경", "류건우", "홍나래"],
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
    "ja": ["東京", "大阪", "京都", "名古屋", "札幌", "福岡", "横浜", "神戸", "広島", "仙台", "ロンドン", "パリ", "ベルリン",
           "ニューヨーク", "ローマ", "中国", "韓国", "アメリカ", "フランス", "ドイツ", "イタリア", "カナダ", "ブラジル",
           "北海道", "沖縄"],
    "zh": ["北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆", "伦敦", "巴黎", "柏林", "东京",
           "纽约", "罗马", "日本", "德国", "法国", "美国", "英国", "意大利", "加拿大", "巴西", "澳大利亚"],
    "th": ["กรุงเทพ", "เชียงใหม่", "ภูเก็ต", "ขอนแก่น", "พัทยา", "หาดใหญ่", "อยุธยา", "เชียงราย", "นครราชสีมา", "อุดรธานี",
           "ลอนดอน", "ปารีส", "เบอร์ลิน", "โตเกียว", "นิวยอร์ก", "โรม", "ญี่ปุ่น", "จีน", "ฝรั่งเศส", "เยอรมนี", "ลาว",
           "เวียดนาม", "กัมพูชา", "มาเลเซีย", "อินเดีย"],
    "hi": ["दिल्ली", "मुंबई", "कोलकाता", "चेन्नई", "बेंगलुरु", "हैदराबाद", "जयपुर", "लखनऊ", "पटना", "भोपाल", "लंदन", "पेरिस",
           "बर्लिन", "टोक्यो", "न्यूयॉर्क", "रोम", "भारत", "नेपाल", "जापान", "फ्रांस", "जर्मनी", "कनाडा", "ब्राज़ील", "रूस",
           "चीन"],
    "ar": ["القاهرة", "الرياض", "دبي", "بيروت", "عمان", "تونس", "الرباط", "بغداد", "دمشق", "الدوحة", "لندن", "باريس",
           "برلين", "مدريد", "روما", "طوكيو", "مصر", "المغرب", "الأردن", "لبنان", "فرنسا", "ألمانيا", "اليابان", "كندا",
           "تركيا"],
    "ko": ["서울", "부산", "인천", "대구", "대전", "광주", "울산", "제주", "수원", "강릉", "도쿄", "파리", "런던", "베를린",
           "뉴욕", "로마", "일본", "중국", "미국", "프랑스", "독일", "캐나다", "호주", "베트남", "태국"],
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
    "ja": ["トヨタ", "ソニー", "任天堂", "パナソニック", "日立製作所", "東京大学", "京都大学", "日本銀行", "三菱商事", "楽天",
           "ソフトバンク", "本田技研工業", "NHK", "日本航空", "全日空", "富士通", "東芝", "野村證券", "ユニクロ", "資生堂"],
    "zh": ["华为", "阿里巴巴", "腾讯", "百度", "小米", "联想", "清华大学", "北京大学", "中国银行", "中国移动", "京东", "海尔",
           "比亚迪", "新华社", "国航", "复旦大学", "招商银行", "国家电网", "网易", "美团"],
    "th": ["ปตท.", "การบินไทย", "ธนาคารกรุงเทพ", "ไปรษณีย์ไทย", "มหาวิทยาลัยมหิดล", "ซีพี ออลล์", "เอไอเอส",
           "ทรู คอร์ปอเรชั่น", "ธนาคารกสิกรไทย", "เซ็นทรัล", "กรุงศรี", "ไทยเบฟ", "บางจาก", "เอสซีจี", "ธนาคารไทยพาณิชย์",
           "กฟผ.", "มหาวิทยาลัยธรรมศาสตร์", "ช่อง 7", "ไทยรัฐ", "ดีแทค"],
    "hi": ["टाटा मोटर्स", "इंफोसिस", "रिलायंस", "विप्रो", "भारतीय रेल", "दिल्ली विश्वविद्यालय", "भारतीय स्टेट बैंक", "इसरो",
           "एयर इंडिया", "बजाज ऑटो", "महिंद्रा", "एचडीएफसी बैंक", "ओएनजीसी", "भारती एयरटेल", "आईआईटी बॉम्बे",
           "लार्सन एंड टुब्रो", "हिंदुस्तान यूनिलीवर", "अमूल", "पतंजलि", "गेल"],
    "ar": ["الأمم المتحدة", "جامعة القاهرة", "أرامكو", "طيران الإمارات", "قناة الجزيرة", "البنك الدولي", "الاتحاد الأفريقي",
           "مصرف الراجحي", "الهلال الأحمر", "بنك مصر", "شركة المراعي", "اتصالات", "الخطوط السعودية", "زين",
           "جامعة الملك سعود", "موانئ دبي", "سابك", "الاتحاد الأوروبي", "هيئة الطيران", "بنك قطر"],
    "ko": ["삼성전자", "현대자동차", "엘지전자", "에스케이텔레콤", "네이버", "카카오", "서울대학교", "연세대학교", "고려대학교",
           "한국은행", "포스코", "대한항공", "아시아나항공", "롯데", "신세계", "한화", "기아", "쿠팡", "국민은행", "한국전력"],
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
    "ja": [
        "{PER}さんは{LOC}で生まれ、その後{LOC2}に引っ越した。",
        "{PER}さんは{LOC}にある{ORG}でエンジニアとして働いている。",
        "昨日、{PER}さんは{LOC}の会議で{PER2}さんに会った。",
        "{ORG}は月曜日、{LOC}に新しい事務所を開くと発表した。",
        "{PER}さんによると、{ORG}は来年二百人を採用する予定だ。",
        "{LOC}から{LOC2}へ向かう電車は一時間近く遅れた。",
        "{PER}さんは二〇一五年から{ORG}の社長を務めている。",
        "去年の夏、私たちは友人と{LOC}で二週間過ごした。",
        "インタビューで{PER}さんは{LOC}が一番好きな町だと語った。",
        "{ORG}と{ORG2}は{LOC}で提携契約に署名した。",
        "{LOC}の天気は一週間ずっと寒くて雨だった。",
        "{PER}さんは法律を学んだ後、{ORG}に入社した。",
        "{LOC}の空港では何千人ものファンが{PER}さんを出迎えた。",
        "{LOC}の新しい博物館には毎日多くの人が訪れる。",
        "発表の後、{ORG}の株価は大きく上がった。",
        "隣の人は去年、川の近くに小さな家を買った。",
        "{PER}さんとチームの打ち合わせは三時間続いた。",
        "{PER}さんは{LOC}の歴史についての本を書いた。",
    ],
    "zh": [
        "{PER}出生于{LOC}，后来搬到了{LOC2}。",
        "{PER}在{LOC}的{ORG}担任工程师。",
        "昨天{PER}在{LOC}的一次会议上见到了{PER2}。",
        "{ORG}周一宣布将在{LOC}开设新的办事处。",
        "据{PER}介绍，{ORG}计划明年招聘两百人。",
        "从{LOC}开往{LOC2}的火车晚点了将近一个小时。",
        "{PER}自2015年起担任{ORG}的负责人。",
        "去年夏天我们和朋友在{LOC}待了两个星期。",
        "{PER}在采访中说，{LOC}是她最喜欢的城市。",
        "{ORG}和{ORG2}在{LOC}签署了合作协议。",
        "{LOC}整个星期都又冷又下雨。",
        "{PER}学习法律之后加入了{ORG}。",
        "数千名粉丝在{LOC}的机场迎接{PER}。",
        "{LOC}的新博物馆每天吸引很多游客。",
        "消息公布后，{ORG}的股价大幅上涨。",
        "我的邻居去年在河边买了一栋小房子。",
        "{PER}和团队的会议持续了三个小时。",
        "{PER}写了一本关于{LOC}历史的书。",
    ],
    "th": [
        "{PER}เกิดที่{LOC}และต่อมาย้ายไปอยู่ที่{LOC2}",
        "{PER}ทำงานเป็นวิศวกรที่{ORG}ใน{LOC}",
        "เมื่อวานนี้{PER}ได้พบกับ{PER2}ที่การประชุมใน{LOC}",
        "{ORG}ประกาศเมื่อวันจันทร์ว่าจะเปิดสำนักงานแห่งใหม่ที่{LOC}",
        "{PER}กล่าวว่า{ORG}มีแผนจะจ้างพนักงานสองร้อยคนในปีหน้า",
        "รถไฟจาก{LOC}ไป{LOC2}ล่าช้าเกือบหนึ่งชั่วโมง",
        "{PER}เป็นผู้อำนวยการของ{ORG}ตั้งแต่ปี 2015",
        "ฤดูร้อนที่แล้วเราใช้เวลาสองสัปดาห์ที่{LOC}กับเพื่อนๆ",
        "ในการให้สัมภาษณ์ {PER}บอกว่า{LOC}เป็นเมืองที่เธอชอบที่สุด",
        "{ORG}และ{ORG2}ลงนามในข้อตกลงความร่วมมือที่{LOC}",
        "อากาศที่{LOC}หนาวและฝนตกตลอดทั้งสัปดาห์",
        "{PER}เรียนกฎหมายก่อนจะเข้าร่วมงานกับ{ORG}",
        "แฟนๆ หลายพันคนมาต้อนรับ{PER}ที่สนามบิน{LOC}",
        "พิพิธภัณฑ์แห่งใหม่ใน{LOC}มีผู้เข้าชมจำนวนมากทุกวัน",
        "หุ้นของ{ORG}ปรับตัวขึ้นอย่างมากหลังการประกาศ",
        "เพื่อนบ้านของฉันซื้อบ้านหลังเล็กใกล้แม่น้ำเมื่อปีที่แล้ว",
        "การประชุมระหว่าง{PER}กับทีมงานใช้เวลาสามชั่วโมง",
        "{PER}เขียนหนังสือเกี่ยวกับประวัติศาสตร์ของ{LOC}",
    ],
    "hi": [
        "{PER} का जन्म {LOC} में हुआ और बाद में वे {LOC2} चले गए।",
        "{PER} {LOC} में {ORG} में इंजीनियर के रूप में काम करते हैं।",
        "कल {PER} ने {LOC} में एक सम्मेलन में {PER2} से मुलाकात की।",
        "{ORG} ने सोमवार को घोषणा की कि वह {LOC} में नया कार्यालय खोलेगी।",
        "{PER} के अनुसार {ORG} अगले साल दो सौ लोगों को नौकरी देगी।",
        "{LOC} से {LOC2} जाने वाली ट्रेन लगभग एक घंटा देर से पहुँची।",
        "{PER} 2015 से {ORG} के निदेशक हैं।",
        "पिछली गर्मियों में हमने दोस्तों के साथ {LOC} में दो हफ्ते बिताए।",
        "एक साक्षात्कार में {PER} ने कहा कि {LOC} उनका पसंदीदा शहर है।",
        "{ORG} और {ORG2} ने {LOC} में साझेदारी समझौते पर हस्ताक्षर किए।",
        "{LOC} में पूरे हफ्ते मौसम ठंडा और बरसाती रहा।",
        "{PER} ने {ORG} में शामिल होने से पहले कानून की पढ़ाई की।",
        "हज़ारों प्रशंसकों ने {LOC} हवाई अड्डे पर {PER} का स्वागत किया।",
        "{LOC} का नया संग्रहालय हर दिन बहुत से लोगों को आकर्षित करता है।",
        "घोषणा के बाद {ORG} के शेयर तेज़ी से बढ़े।",
        "मेरे पड़ोसी ने पिछले साल नदी के पास एक छोटा घर खरीदा।",
        "{PER} और टीम की बैठक तीन घंटे चली।",
        "{PER} ने {LOC} के इतिहास पर एक किताब लिखी।",
    ],
    "ar": [
        "ولد {PER} في {LOC} ثم انتقل لاحقا إلى {LOC2}.",
        "يعمل {PER} مهندسا في {ORG} في {LOC}.",
        "التقى {PER} أمس ب{PER2} خلال مؤتمر في {LOC}.",
        "أعلنت {ORG} يوم الاثنين أنها ستفتح مكتبا جديدا في {LOC}.",
        "قال {PER} إن {ORG} تخطط لتوظيف مئتي شخص العام المقبل.",
        "تأخر القطار المتجه من {LOC} إلى {LOC2} نحو ساعة.",
        "يدير {PER} فرع {ORG} منذ عام 2015.",
        "قضينا الصيف الماضي أسبوعين في {LOC} مع أصدقائنا.",
        "قال {PER} في مقابلة إن {LOC} هي مدينته المفضلة.",
        "وقعت {ORG} و{ORG2} اتفاقية شراكة في {LOC}.",
        "كان الطقس في {LOC} باردا وممطرا طوال الأسبوع.",
        "درس {PER} القانون قبل أن ينضم إلى {ORG}.",
        "استقبل آلاف المشجعين {PER} في مطار {LOC}.",
        "يجذب المتحف الجديد في {LOC} زوارا كثيرين كل يوم.",
        "ارتفعت أسهم {ORG} بقوة بعد الإعلان.",
        "اشترى جاري منزلا صغيرا قرب النهر العام الماضي.",
        "استمر الاجتماع بين {PER} والفريق ثلاث ساعات.",
        "كتب {PER} كتابا عن تاريخ {LOC} و{LOC2}.",
    ],
    "ko": [
        "{PER} 씨는 {LOC}에서 태어나 나중에 {LOC2}에 정착했다.",
        "{PER} 씨는 {LOC}에 있는 {ORG}에서 엔지니어로 일한다.",
        "어제 {PER} 씨는 {LOC}에서 열린 회의에서 {PER2} 씨를 만났다.",
        "{ORG} 측은 월요일 {LOC}에 새 사무실을 연다고 발표했다.",
        "{PER} 씨에 따르면 {ORG} 측은 내년에 이백 명을 채용할 계획이다.",
        "{LOC}에서 {LOC2}까지 가는 기차가 한 시간 가까이 늦었다.",
        "{PER} 씨는 2015년부터 {ORG}의 대표를 맡고 있다.",
        "지난여름 우리는 친구들과 {LOC}에서 두 주를 보냈다.",
        "인터뷰에서 {PER} 씨는 {LOC}의 분위기를 가장 좋아한다고 말했다.",
        "{ORG} 및 {ORG2} 측은 {LOC}에서 협력 협약을 맺었다.",
        "{LOC}의 날씨는 일주일 내내 춥고 비가 왔다.",
        "{PER} 씨는 법학을 공부한 뒤 {ORG}에 입사했다.",
        "수천 명의 팬들이 {LOC} 공항에서 {PER} 씨를 맞이했다.",
        "{LOC}의 새 박물관에는 매일 많은 방문객이 찾아온다.",
        "발표 후 {ORG}의 주가가 크게 올랐다.",
        "우리 이웃은 작년에 강 근처의 작은 집을 샀다.",
        "{PER}의 팀 회의는 세 시간 동안 이어졌다.",
        "{PER} 씨는 {LOC}의 역사에 관한 책을 썼다.",
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


def check_boundaries(record: dict) -> None:
    """Entities start and end between graphemes, and on word boundaries unless inside a spaceless or clitic run."""
    text = record["text"]
    units = coarse_units(text)
    allowed = {start for start, _, _ in units} | {end for _, end, _ in units}
    graphemes = grapheme_starts(text)
    inside_runs = {position for start, end, cut_further in units if cut_further for position in range(start, end)}
    for entity in record["entities"]:
        for position in (entity["start"], entity["end"]):
            if position not in allowed and not (position in inside_runs and position in graphemes):
                raise AssertionError(f"entity {entity} does not start and end on a boundary in {text!r}")


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
        check_boundaries(record)
    return train, heldout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent.parent / "mluke_hf" / "data" / "demo_ner"
    parser.add_argument("--output-dir", type=Path, default=default)
    args = parser.parse_args()
    train, heldout = generate()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name, records in (("train.jsonl", train), ("heldout.jsonl", heldout)):
        lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        (args.output_dir / name).write_text(lines, encoding="utf-8")
    print(f"wrote {len(train)} training and {len(heldout)} held-out sentences to {args.output_dir}")


if __name__ == "__main__":
    main()
