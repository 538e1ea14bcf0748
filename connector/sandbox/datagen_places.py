"""Country tables for the data generator: names, cities, postcodes, phones, email domains.

Each city's region, postcode pattern and landline prefix agree, so addresses and phones are
consistent. Patterns use ``#`` for a digit, ``%`` for 2-9, ``@`` for a letter valid in both UK and
Canadian postcodes, and ``[..]`` for one character of a class; everything else is literal. Phone
patterns are national formats drawn from allocated ranges (checked with ``phonenumbers`` in the
tests).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["COUNTRIES", "City", "Country", "Pattern", "compile_pattern", "slug"]

Pattern = tuple[str, tuple[str, ...]]
_CLASSES = MappingProxyType({"#": "0123456789", "%": "23456789", "@": "ABEGHJLNPRSTWXY"})


def compile_pattern(pattern: str) -> Pattern:
    """A pattern as a format string with one ``{}`` per random position, and each position's choices."""
    literal: list[str] = []
    choices: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            end = pattern.index("]", i)
            spec = pattern[i + 1 : end]
            chars = ""
            j = 0
            while j < len(spec):
                if j + 2 < len(spec) and spec[j + 1] == "-":
                    chars += "".join(chr(c) for c in range(ord(spec[j]), ord(spec[j + 2]) + 1))
                    j += 3
                else:
                    chars += spec[j]
                    j += 1
            i = end + 1
        else:
            chars = _CLASSES.get(ch, ch)
            i += 1
        if len(chars) == 1:
            literal.append(chars.replace("{", "{{").replace("}", "}}"))
        else:
            literal.append("{}")
            choices.append(chars)
    return "".join(literal), tuple(choices)


@dataclass(frozen=True, slots=True)
class City:
    """A city with its region, postcode patterns and landline pattern."""

    name: str
    region: str
    postal: tuple[Pattern, ...]
    landline: Pattern
    weight: float = 1.0
    locale: str | None = None  # overrides the country's first locale (e.g. fr-CA in Québec)
    tax_percent: str | None = None  # overrides the country's rate (US sales tax)


@dataclass(frozen=True, slots=True)
class Country:
    """Everything the generator needs to make a plausible person living in one country."""

    code: str
    weight: float
    calling_code: str
    trunk_zero: bool  # national numbers start with a 0 dropped in international format
    locale: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[City, ...]
    mobile: tuple[Pattern, ...]
    domains: tuple[str, ...]
    domain_weights: tuple[float, ...]
    streets: tuple[str, ...]
    number_first: bool  # "12 High Street" rather than "Hauptstraße 12"
    company_suffixes: tuple[str, ...]
    company_tld: str
    tax_percent: str
    first_slugs: tuple[str, ...] = ()  # ASCII forms of the names, for email local parts
    last_slugs: tuple[str, ...] = ()


def slug(name: str, country: str = "") -> str:
    """An email-friendly ASCII form of a name: ``"Müller"`` → ``"mueller"`` (DE), ``"O'Connor"`` → ``"oconnor"``."""
    text = name.lower().replace("ß", "ss").replace("ı", "i")
    if country == "DE":
        text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text if ch.isalnum() or ch == "-")


def _n(text: str) -> tuple[str, ...]:
    """Whitespace-separated names; ``_`` stands for a space inside a name."""
    return tuple(w.replace("_", " ") for w in text.split())


def _c(name: str, region: str, postal: str, landline: str, weight: float = 1.0, **extra: str) -> City:
    return City(
        name,
        region,
        tuple(compile_pattern(p) for p in postal.split("|")),
        compile_pattern(landline),
        weight,
        extra.get("locale"),
        extra.get("tax"),
    )


def _domains(text: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    pairs = [item.split(":") for item in text.split()]
    return tuple(d for d, _ in pairs), tuple(float(w) for _, w in pairs)


def _country(
    code: str,
    weight: float,
    calling: str,
    trunk: bool,
    locale: str,
    *,
    first: str,
    last: str,
    cities: tuple[City, ...],
    mobile: str,
    domains: str,
    streets: str,
    number_first: bool,
    suffixes: str,
    tld: str,
    tax: str,
) -> Country:
    domain_names, domain_weights = _domains(domains)
    return Country(
        code=code,
        weight=weight,
        calling_code=calling,
        trunk_zero=trunk,
        locale=locale,
        first_names=_n(first),
        last_names=_n(last),
        first_slugs=tuple(slug(n, code) for n in _n(first)),
        last_slugs=tuple(slug(n, code) for n in _n(last)),
        cities=cities,
        mobile=tuple(compile_pattern(p) for p in mobile.split("|")),
        domains=domain_names,
        domain_weights=domain_weights,
        streets=tuple(s.strip() for s in streets.split("|")),
        number_first=number_first,
        company_suffixes=tuple(s.strip() for s in suffixes.split("|")),
        company_tld=tld,
        tax_percent=tax,
    )


COUNTRIES: tuple[Country, ...] = (
    _country(
        "US", 0.28, "1", False, "en-US",
        first="James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan "
        "Joseph Jessica Thomas Sarah Christopher Karen Daniel Emily Matthew Ashley Anthony Madison Mark Olivia "
        "Joshua Ava Andrew Sophia Ryan Isabella Tyler Abigail Brandon Hannah Kevin Megan Jason Lauren Justin "
        "Rachel Ethan Grace Noah Chloe Aiden Kayla Tanisha DeShawn Carlos Maria",
        last="Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
        "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
        "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker "
        "Hall Rivera Campbell Mitchell Carter Roberts O'Connor Kim Patel Washington",
        cities=(
            _c("New York", "NY", "100##|112##", "(212) %##-####", 3, tax="8.875"),
            _c("Los Angeles", "CA", "900##", "(213) %##-####", 2, tax="9.5"),
            _c("San Francisco", "CA", "941##", "(415) %##-####", 1.5, tax="8.625"),
            _c("Chicago", "IL", "606##", "(312) %##-####", 2, tax="10.25"),
            _c("Houston", "TX", "770##", "(713) %##-####", 1.5, tax="8.25"),
            _c("Austin", "TX", "787##", "(512) %##-####", 1, tax="8.25"),
            _c("Phoenix", "AZ", "850##", "(602) %##-####", 1, tax="8.6"),
            _c("Seattle", "WA", "981##", "(206) %##-####", 1, tax="10.25"),
            _c("Boston", "MA", "021##", "(617) %##-####", 1, tax="6.25"),
            _c("Miami", "FL", "331##", "(305) %##-####", 1, tax="7"),
            _c("Denver", "CO", "802##", "(303) %##-####", 1, tax="8.81"),
            _c("Atlanta", "GA", "303##", "(404) %##-####", 1, tax="8.9"),
            _c("Portland", "OR", "972##", "(503) %##-####", 0.7, tax="0"),
        ),
        mobile="(917) %##-####|(646) %##-####|(310) %##-####|(773) %##-####|(832) %##-####|(786) %##-####",
        domains="gmail.com:45 yahoo.com:14 outlook.com:9 hotmail.com:9 icloud.com:12 aol.com:5 comcast.net:4 "
        "verizon.net:2",
        streets="Main St|Oak Ave|Maple Dr|Cedar Ln|Elm St|Washington Blvd|Park Ave|Lake Rd|Sunset Blvd|Pine St|"
        "2nd Ave|Highland Ave",
        number_first=True,
        suffixes="LLC|Inc.|Co.|Group|& Associates",
        tld=".com",
        tax="0",
    ),
    _country(
        "FR", 0.22, "33", True, "fr-FR",
        first="Marie Jean Pierre Camille Léa Louis Emma Hugo Chloé Lucas Manon Thomas Julie Nicolas Sophie Antoine "
        "Sarah Julien Laura Maxime Pauline Alexandre Claire Mathieu Élodie Guillaume Céline Romain Anaïs Vincent "
        "Aurélie Sébastien Mathilde François Isabelle Philippe Nathalie Olivier Valérie Stéphane Inès Gabriel "
        "Jade Arthur Louise Raphaël Zoé Théo Margaux Jean-Baptiste Anne-Sophie Yasmine Karim",
        last="Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel "
        "Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert Bonnet "
        "François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin Morin "
        "Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Benali Nguyen",
        cities=(
            _c("Paris", "Île-de-France", "7500[1-9]|7501#", "01 4# ## ## ##", 4),
            _c("Lyon", "Auvergne-Rhône-Alpes", "6900[1-9]", "04 7# ## ## ##", 2),
            _c("Marseille", "Provence-Alpes-Côte d'Azur", "130##", "04 9# ## ## ##", 2),
            _c("Toulouse", "Occitanie", "310##", "05 6# ## ## ##", 1.5),
            _c("Nantes", "Pays de la Loire", "44[0-3]00", "02 4# ## ## ##", 1),
            _c("Bordeaux", "Nouvelle-Aquitaine", "330[0-9]0", "05 5# ## ## ##", 1),
            _c("Lille", "Hauts-de-France", "590[0-9]0", "03 2# ## ## ##", 1),
            _c("Strasbourg", "Grand Est", "670[0-9]0", "03 8# ## ## ##", 1),
            _c("Nice", "Provence-Alpes-Côte d'Azur", "06[0-3]00", "04 9# ## ## ##", 1),
            _c("Rennes", "Bretagne", "350[0-9]0", "02 9# ## ## ##", 1),
            _c("Montpellier", "Occitanie", "340[0-9]0", "04 6# ## ## ##", 1),
        ),
        mobile="06 [124-8]# ## ## ##|07 [5-8]# ## ## ##",
        domains="gmail.com:35 orange.fr:15 yahoo.fr:9 hotmail.fr:10 free.fr:8 outlook.fr:6 laposte.net:5 sfr.fr:5 "
        "wanadoo.fr:3 icloud.com:4",
        streets="rue de la République|avenue Jean Jaurès|rue Victor Hugo|boulevard Voltaire|rue des Lilas|"
        "place de la Mairie|rue du Moulin|allée des Tilleuls|rue Pasteur|chemin des Vignes|rue de la Gare",
        number_first=True,
        suffixes="SARL|SAS|& Fils|EURL|SA",
        tld=".fr",
        tax="20",
    ),
    _country(
        "GB", 0.12, "44", True, "en-GB",
        first="Oliver Amelia George Isla Harry Ava Jack Mia Charlie Emily Jacob Sophie Alfie Grace Freddie Lily "
        "Oscar Ella Leo Evie William Poppy Thomas Charlotte James Jessica Joshua Ruby Daniel Chloe Samuel Olivia "
        "Joseph Lucy Edward Hannah Henry Eleanor Alexander Holly Benjamin Sarah Callum Rebecca Liam Katie Rhys "
        "Siobhan Ewan Niamh Priya Mohammed",
        last="Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
        "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill "
        "Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker "
        "Price Bennett Young Griffiths MacDonald O'Neill Khan",
        cities=(
            _c("London", "England", "SW[1-9] #@@|E[1-9] #@@|N[1-9] #@@|NW[1-9] #@@|SE[1-9] #@@", "020 [78]### ####", 5),
            _c("Manchester", "England", "M[1-9] #@@|M1# #@@", "0161 %## ####", 1.5),
            _c("Birmingham", "England", "B[1-9] #@@|B1# #@@", "0121 [2-7]## ####", 1.5),
            _c("Leeds", "England", "LS[1-9] #@@", "0113 [2-5]## ####", 1),
            _c("Bristol", "England", "BS[1-9] #@@", "0117 [2-4]## ####", 1),
            _c("Liverpool", "England", "L[1-9] #@@|L1# #@@", "0151 %## ####", 1),
            _c("Glasgow", "Scotland", "G[1-9] #@@|G1# #@@", "0141 %## ####", 1),
            _c("Edinburgh", "Scotland", "EH[1-9] #@@", "0131 [2-8]## ####", 1),
            _c("Cardiff", "Wales", "CF1# #@@", "029 20## ####", 0.7),
            _c("Belfast", "Northern Ireland", "BT[1-9] #@@", "028 90## ####", 0.5),
        ),
        mobile="07[4-5]## ######|07[7-9][1-9]# ######",
        domains="gmail.com:35 hotmail.co.uk:15 yahoo.co.uk:10 outlook.com:10 btinternet.com:10 icloud.com:8 "
        "sky.com:6 live.co.uk:6",
        streets="High Street|Station Road|Church Lane|Victoria Road|Green Lane|Manor Road|Park Road|Queen Street|"
        "Mill Lane|King's Road",
        number_first=True,
        suffixes="Ltd|& Sons Ltd|Limited|LLP",
        tld=".co.uk",
        tax="20",
    ),
    _country(
        "DE", 0.11, "49", True, "de-DE",
        first="Maximilian Sophie Alexander Marie Paul Sophia Elias Maria Ben Emma Noah Hannah Leon Mia Louis Anna "
        "Jonas Emilia Felix Lena Lukas Lea Finn Laura Tim Julia Jan Katharina Niklas Sarah Tobias Johanna Florian "
        "Lisa Moritz Clara Sebastian Franziska Stefan Sabine Michael Andrea Thomas Petra Jürgen Ursula Wolfgang "
        "Monika Matthias Jörg Mehmet Ayşe",
        last="Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter "
        "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz "
        "Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters "
        "Lang Scholz Möller Weiß Jung Hahn Vogel Yılmaz",
        cities=(
            _c("Berlin", "Berlin", "10###|12###|13###", "030 %#######", 3),
            _c("Hamburg", "Hamburg", "20###|22###", "040 %#######", 2),
            _c("München", "Bayern", "80###|81###", "089 %#######", 2),
            _c("Köln", "Nordrhein-Westfalen", "50###|51###", "0221 %######", 1.5),
            _c("Frankfurt am Main", "Hessen", "60###|65###", "069 %#######", 1.5),
            _c("Stuttgart", "Baden-Württemberg", "70###", "0711 %######", 1),
            _c("Düsseldorf", "Nordrhein-Westfalen", "40###", "0211 %######", 1),
            _c("Leipzig", "Sachsen", "04###", "0341 %######", 1),
            _c("Dresden", "Sachsen", "01###", "0351 %######", 0.8),
        ),
        mobile="015[12] ########|016[023] #######|017[0-9] #######",
        domains="gmail.com:25 gmx.de:20 web.de:20 t-online.de:12 yahoo.de:5 outlook.de:8 freenet.de:5 icloud.com:5",
        streets="Hauptstraße|Bahnhofstraße|Gartenstraße|Schulstraße|Dorfstraße|Bergstraße|Lindenstraße|"
        "Kirchstraße|Goethestraße|Schillerstraße",
        number_first=False,
        suffixes="GmbH|GmbH & Co. KG|KG|AG|e.K.",
        tld=".de",
        tax="19",
    ),
    _country(
        "ES", 0.07, "34", False, "es-ES",
        first="Lucía Hugo Sofía Martín María Pablo Martina Daniel Paula Alejandro Julia Adrián Valeria Álvaro Emma "
        "David Carmen Javier Laura Diego Ana Sergio Elena Carlos Marta Manuel Cristina Antonio Isabel Jorge Raquel "
        "Francisco Nuria José Pilar Miguel Rocío Rubén Alba Iván Noelia Raúl Beatriz Marcos Irene Andrés Sara Luis "
        "Claudia Juan",
        last="García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández "
        "Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil Ramírez "
        "Serrano Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez Iglesias Medina "
        "Garrido Cortés Castillo Santos Lozano Guerrero Cano Prieto",
        cities=(
            _c("Madrid", "Madrid", "280##", "91% ### ###", 3),
            _c("Barcelona", "Cataluña", "080##", "93% ### ###", 2.5),
            _c("Valencia", "Comunidad Valenciana", "460##", "96% ### ###", 1.5),
            _c("Sevilla", "Andalucía", "410##", "95% ### ###", 1),
            _c("Bilbao", "País Vasco", "480##", "94% ### ###", 1),
            _c("Málaga", "Andalucía", "290##", "95% ### ###", 1),
            _c("Zaragoza", "Aragón", "500##", "976 ### ###", 0.8),
        ),
        mobile="6[0-9]# ### ###|7[1-4]# ### ###",
        domains="gmail.com:45 hotmail.es:20 yahoo.es:10 outlook.es:10 telefonica.net:5 icloud.com:10",
        streets="Calle Mayor|Calle Real|Avenida de la Constitución|Calle de Alcalá|Gran Vía|Calle del Sol|"
        "Plaza de España|Calle Nueva",
        number_first=False,
        suffixes="S.L.|S.A.|S.L.U.",
        tld=".es",
        tax="21",
    ),
    _country(
        "IT", 0.07, "39", False, "it-IT",
        first="Francesco Sofia Alessandro Giulia Leonardo Aurora Lorenzo Alice Mattia Ginevra Andrea Emma Gabriele "
        "Giorgia Riccardo Beatrice Tommaso Anna Edoardo Vittoria Marco Chiara Luca Francesca Giuseppe Valentina "
        "Matteo Martina Davide Sara Simone Elena Federico Alessia Stefano Federica Paolo Silvia Roberto Laura "
        "Antonio Elisa Giovanni Paola Nicola Roberta Fabio Serena Massimo Ilaria",
        last="Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca "
        "Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara "
        "Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De_Santis D'Angelo Marchetti "
        "Parisi Villa Conte Ferraro Ferri Fabbri Bianco Marini Grasso Valentini",
        cities=(
            _c("Roma", "RM", "001##", "06 %### ####", 3),
            _c("Milano", "MI", "201##", "02 %### ####", 3),
            _c("Napoli", "NA", "801##", "081 %## ####", 1.5),
            _c("Torino", "TO", "101##", "011 %## ####", 1.5),
            _c("Firenze", "FI", "501##", "055 %## ####", 1),
            _c("Bologna", "BO", "401##", "051 %## ####", 1),
            _c("Genova", "GE", "161##", "010 %## ####", 0.8),
        ),
        mobile="3[2-4]# ### ####|3[6-9]# ### ####",
        domains="gmail.com:40 libero.it:15 hotmail.it:12 yahoo.it:10 virgilio.it:8 alice.it:5 outlook.it:5 "
        "tiscali.it:5",
        streets="Via Roma|Via Garibaldi|Corso Italia|Via Mazzini|Via Dante|Via Verdi|Piazza del Popolo|Via Cavour",
        number_first=False,
        suffixes="S.r.l.|S.p.A.|S.n.c.|S.a.s.",
        tld=".it",
        tax="22",
    ),
    _country(
        "BE", 0.06, "32", True, "fr-BE",
        first="Lucas Emma Louis Olivia Noah Louise Arthur Mila Liam Elena Adam Alice Jules Juliette Victor Lina Finn "
        "Nora Mathis Marie Lars Fien Wout Lotte Jef Anke Pieter Sofie Thomas Eline Maarten Charlotte Bram Laure "
        "Sander Hanne Nathan Manon Gilles Chloé Jasper Sarah Stijn Inès Koen Annelies Bart Els Dirk Nathalie",
        last="Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters De_Smet Dubois Lambert Dupont "
        "Martin Hermans Aerts Michiels Desmet Vermeulen Pauwels Van_den_Broeck Lemaire Leclercq Denis Renard "
        "Laurent Simon Dumont Van_Damme De_Backer Leroy Smets Verhoeven Cools De_Clercq Stevens Claessens Wuyts "
        "Segers Baert Lejeune Collard Noël Thiry Gilson Mathieu Henrard De_Wilde Lenaerts",
        cities=(
            _c("Bruxelles", "Bruxelles-Capitale", "10[0-9]0|1[12][0-9]0", "02 [2-7]## ## ##", 3),
            _c("Antwerpen", "Antwerpen", "20[0-9]0", "03 [2-8]## ## ##", 2, locale="nl-BE"),
            _c("Gent", "Oost-Vlaanderen", "90[0-5]0", "09 [2-3]## ## ##", 1.5, locale="nl-BE"),
            _c("Liège", "Liège", "40[0-3]0", "04 [2-3]## ## ##", 1.2),
            _c("Namur", "Namur", "5000|5100", "081 ## ## ##", 0.8),
            _c("Charleroi", "Hainaut", "6000|6001|6010", "071 ## ## ##", 0.8),
            _c("Leuven", "Vlaams-Brabant", "3000|3001|3010", "016 ## ## ##", 0.8, locale="nl-BE"),
        ),
        mobile="04[7-9]# ## ## ##",
        domains="gmail.com:35 skynet.be:15 telenet.be:15 hotmail.com:15 outlook.be:10 yahoo.fr:5 proximus.be:5",
        streets="Rue de la Loi|Avenue Louise|Kerkstraat|Stationsstraat|Dorpsstraat|Rue Neuve|Nieuwstraat|"
        "Chaussée de Wavre",
        number_first=False,
        suffixes="BV|SRL|NV|SA",
        tld=".be",
        tax="21",
    ),
    _country(
        "CA", 0.07, "1", False, "en-CA",
        first="Liam Olivia Noah Emma William Charlotte Benjamin Amelia Lucas Ava Ethan Chloé Logan Léa Nathan "
        "Florence Samuel Alice Jacob Juliette Félix Rosalie Gabriel Béatrice Thomas Emily Owen Madison Ryan Sophie "
        "Mathis Camille Jayden Zoé Alexandre Maëlie Connor Abigail Isaac Hailey Dylan Brooklyn Hunter Avery Carter "
        "Maude Xavier Océane Olivier Mégane",
        last="Tremblay Gagnon Roy Côté Bouchard Gauthier Morin Lavoie Fortin Gagné Ouellet Pelletier Bélanger "
        "Lévesque Bergeron Leblanc Paquette Girard Simard Boucher Smith Brown Wilson MacDonald Campbell Taylor "
        "Anderson Thompson Martin Lee Wong Chen Singh Johnson Williams Jones White Murphy Robinson Clark Stewart "
        "MacLeod Fraser Scott Young King Mitchell Walker Wright Patel",
        cities=(
            _c("Toronto", "ON", "M5V #@#|M4C #@#|M6G #@#", "(416) %##-####", 3, tax="13"),
            _c("Montréal", "QC", "H2X #@#|H3B #@#|H1A #@#", "(514) %##-####", 2.5, locale="fr-CA", tax="14.975"),
            _c("Vancouver", "BC", "V6B #@#|V5K #@#", "(604) %##-####", 1.5, tax="12"),
            _c("Calgary", "AB", "T2P #@#|T3A #@#", "(403) %##-####", 1, tax="5"),
            _c("Ottawa", "ON", "K1P #@#|K2A #@#", "(613) %##-####", 1, tax="13"),
            _c("Québec", "QC", "G1R #@#|G1K #@#", "(418) %##-####", 0.8, locale="fr-CA", tax="14.975"),
            _c("Winnipeg", "MB", "R3C #@#", "(204) %##-####", 0.6, tax="12"),
            _c("Halifax", "NS", "B3H #@#|B3J #@#", "(902) %##-####", 0.5, tax="15"),
        ),
        mobile="(647) %##-####|(438) %##-####|(778) %##-####|(587) %##-####",
        domains="gmail.com:40 hotmail.com:15 yahoo.ca:10 outlook.com:10 shaw.ca:8 rogers.com:7 videotron.ca:5 "
        "sympatico.ca:5",
        streets="King St W|Queen St E|Rue Sainte-Catherine|Yonge St|Main St|Boulevard René-Lévesque|Robson St|"
        "Jasper Ave",
        number_first=True,
        suffixes="Inc.|Ltd.|Ltée|Corp.",
        tld=".ca",
        tax="13",
    ),
)
