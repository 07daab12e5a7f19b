"""Chart and report texts in English, Finnish and Swedish, with the ministry's own terms.

Finnish and Swedish follow the words TEM and the TE offices use in their pilots' documents:
TE-toimisto / TE-byrå, työnhakija / arbetssökande, palveluntuottaja / serviceproducent,
kokeilu / försök, tulosperusteinen palkkio / resultatbaserad ersättning. Numbers are written the way
each language writes them (Finnish and Swedish: decimal comma, a space between thousands).
"""

from __future__ import annotations

import math

LANGS = ("en", "fi", "sv")

#: key -> (English, Finnish, Swedish). `{name}` fields are filled by `text(key, lang, name=...)`.
TEXTS: dict[str, tuple[str, str, str]] = {
    # shared words
    "pilot": ("pilot", "kokeilu", "försök"),
    "pilot_arm": ("Pilot arm", "Kokeiluryhmä", "Försöksgrupp"),
    "control_arm": ("Control arm", "Verrokkiryhmä", "Kontrollgrupp"),
    "voluntary": ("Voluntary referral", "Vapaaehtoinen ohjaus", "Frivillig anvisning"),
    "mandatory": ("Mandatory referral", "Velvoittava ohjaus", "Obligatorisk anvisning"),
    "provider_n": ("Provider {n}", "Palveluntuottaja {n}", "Serviceproducent {n}"),
    "people": ("People", "Henkilöä", "Personer"),
    "week": ("Week of the pilot", "Kokeiluviikko", "Försöksvecka"),
    "weeks_since_assignment": (
        "Weeks since assignment", "Viikkoa ryhmään osoittamisesta", "Veckor sedan tilldelningen"
    ),
    "footnote": (
        "Source: labsim {version} simulation. Scenario: {scenario}. {detail}",
        "Lähde: labsim {version} -simulaatio. Skenaario: {scenario}. {detail}",
        "Källa: labsim {version}-simulering. Scenario: {scenario}. {detail}",
    ),
    "seed": ("Seed {seed}", "Siemenluku {seed}", "Slumpfrö {seed}"),
    "sims_detail": (
        "{sims} simulated pilots per point",
        "{sims} simuloitua kokeilua pistettä kohden",
        "{sims} simulerade försök per punkt",
    ),
    "sweep_detail": (
        "{points} variants x {reps} replications",
        "{points} vaihtoehtoa x {reps} toistoa",
        "{points} varianter x {reps} upprepningar",
    ),
    "horizon": ("{h} weeks after assignment", "{h} viikkoa ryhmään osoittamisesta", "{h} veckor efter tilldelningen"),
    # run charts
    "stocks_title": (
        "Where the job seekers are, week by week",
        "Missä työnhakijat ovat viikoittain",
        "Var de arbetssökande finns, vecka för vecka",
    ),
    "stock_unemployed": ("Unemployed", "Työttömänä", "Arbetslösa"),
    "stock_with_provider": (
        "With a service provider (pilot)", "Palveluntuottajalla (kokeilu)", "Hos en serviceproducent (försök)"
    ),
    "stock_activation": ("In an activation service", "Aktivointipalvelussa", "I en aktiveringstjänst"),
    "stock_employed": ("Employed (any form of work)", "Työssä (mikä tahansa työn muoto)", "Sysselsatta (alla arbetsformer)"),
    "stock_studies": ("In studies", "Opiskelemassa", "Studerar"),
    "stock_inactive": ("Inactive", "Työvoiman ulkopuolella", "Utanför arbetskraften"),
    "volume_title": (
        "Does the pilot fill? Offers, acceptances and participants against the target",
        "Täyttyykö kokeilu? Tarjoukset, suostumukset ja osallistujat suhteessa tavoitteeseen",
        "Fylls försöket? Erbjudanden, accepterade och deltagare mot målet",
    ),
    "offered_cum": ("Offered a place (cumulative)", "Paikkaa tarjottu (kertymä)", "Erbjudna en plats (kumulativt)"),
    "accepted_cum": ("Accepted (cumulative)", "Suostuneet (kertymä)", "Accepterat (kumulativt)"),
    "started_cum": ("Started with a service provider (cumulative)", "Aloittaneet palveluntuottajalla (kertymä)",
                    "Börjat hos en serviceproducent (kumulativt)"),
    "participants_now": ("With a service provider this week", "Palveluntuottajalla tällä viikolla",
                         "Hos en serviceproducent denna vecka"),
    "target": ("Target: {n} participants", "Tavoite: {n} osallistujaa", "Mål: {n} deltagare"),
    "reached": ("Reached {reached} of {target} ({share})", "Saavutettu {reached}/{target} ({share})",
                "Nått {reached} av {target} ({share})"),
    "employment_title": (
        "Employment after assignment: pilot arm against control arm",
        "Työllisyys ryhmään osoittamisen jälkeen: kokeiluryhmä ja verrokkiryhmä",
        "Sysselsättning efter tilldelningen: försöksgrupp mot kontrollgrupp",
    ),
    "share_employed": ("Share employed (%)", "Työllisten osuus (%)", "Andel sysselsatta (%)"),
    "employment_rate_band": ("Employment rate by arm (95 % band)", "Työllisyysaste ryhmittäin (95 %:n vyö)",
                             "Sysselsättningsgrad per grupp (95 %-band)"),
    "effect_ci": ("Effect estimate (95 % CI)", "Vaikutusestimaatti (95 %:n luottamusväli)",
                  "Effektskattning (95 % konfidensintervall)"),
    "effect_pp": ("Pilot minus control (percentage points)", "Kokeilu miinus verrokki (prosenttiyksikköä)",
                  "Försök minus kontroll (procentenheter)"),
    "time_since_assignment": ("Time since assignment", "Aika ryhmään osoittamisesta", "Tid sedan tilldelningen"),
    "weeks_n": ("{h} weeks", "{h} viikkoa", "{h} veckor"),
    "not_observed": ("not observed in this run: {h} weeks", "ei havaittu tässä ajossa: {h} viikkoa",
                     "inte observerat i denna körning: {h} veckor"),
    "survival_title": (
        "Still unemployed: time to the first job by arm (Kaplan-Meier)",
        "Yhä työttömänä: aika ensimmäiseen työhön ryhmittäin (Kaplan-Meier)",
        "Fortfarande utan arbete: tid till första jobbet per grupp (Kaplan-Meier)",
    ),
    "survival_y": ("Share not yet in work (%)", "Ei vielä työllistyneiden osuus (%)", "Andel ännu inte i arbete (%)"),
    "censored_note": (
        "Seekers whose follow-up ends before a job are censored, not counted as unemployed; band: 95 %",
        "Ne, joiden seuranta päättyy ennen työtä, sensuroidaan eikä lasketa työttömiksi; vyö: 95 %",
        "De vars uppföljning slutar före ett jobb censureras och räknas inte som arbetslösa; band: 95 %",
    ),
    "profit_title": (
        "Does a service provider break even? Profit against number of clients",
        "Kannattaako palveluntuottajan toiminta? Tulos asiakasmäärän mukaan",
        "Går serviceproducenten med vinst? Resultat mot antal kunder",
    ),
    "clients": ("Clients served (people)", "Palvellut asiakkaat (henkilöä)", "Betjänade kunder (personer)"),
    "profit_eur": ("Profit (EUR)", "Tulos (euroa)", "Resultat (euro)"),
    "break_even_at": ("break-even at {n} clients", "kannattavuusraja {n} asiakasta", "nollpunkt vid {n} kunder"),
    "never_breaks_even": ("never breaks even", "ei saavuta kannattavuusrajaa", "når aldrig nollpunkten"),
    "actual": ("this run", "tämä ajo", "denna körning"),
    "profit_line_note": (
        "Lines: the provider's revenue and cost per client held fixed; dots: the simulated outcome",
        "Viivat: palveluntuottajan tulot ja kulut asiakasta kohden vakioina; pisteet: simuloitu tulos",
        "Linjer: serviceproducentens intäkt och kostnad per kund hålls fasta; punkter: simulerat utfall",
    ),
    # payment comparisons
    "payment_model": ("Payment model", "Maksumalli", "Ersättningsmodell"),
    "effort_title": (
        "Who gets the service provider's effort? Effort by client employability",
        "Kenelle palveluntuottaja panostaa? Panostus asiakkaan työllistyvyyden mukaan",
        "Vem får serviceproducentens insats? Insats efter kundens anställbarhet",
    ),
    "employability_fifth": (
        "Client employability at assignment (fifths, lowest first)",
        "Asiakkaan työllistyvyys ryhmään osoitettaessa (viidennekset, heikoin ensin)",
        "Kundens anställbarhet vid tilldelningen (femtedelar, lägst först)",
    ),
    "effort_y": (
        "Counselling effort per client-week (0-1)",
        "Ohjauspanostus asiakasviikkoa kohden (0-1)",
        "Vägledningsinsats per kundvecka (0-1)",
    ),
    "fifth_n": ("{n}.", "{n}.", "{n}:a"),
    "effort_note": (
        "Rising lines: providers favour the easiest clients (cream-skimming); a low first fifth: parking",
        "Nousevat viivat: helpoimmat asiakkaat suosittuja (kermankuorinta); matala ensimmäinen viidennes: pysäköinti",
        "Stigande linjer: de lättaste kunderna gynnas (russinplockning); låg första femtedel: parkering",
    ),
    "cost_title": (
        "Cost per extra job by payment model",
        "Kustannus lisätyöllistynyttä kohden maksumalleittain",
        "Kostnad per extra jobb per ersättningsmodell",
    ),
    "cost_y": ("Purchaser's cost per extra job (EUR)", "Tilaajan kustannus lisätyöllistynyttä kohden (euroa)",
               "Beställarens kostnad per extra jobb (euro)"),
    "cost_note": (
        "Extra jobs: pilot minus control employment {h} weeks after assignment x pilot arm; bars: 95 % interval",
        "Lisätyöllistyneet: kokeilu- miinus verrokkiryhmän työllisyys {h} viikon kohdalla x kokeiluryhmä; janat: 95 %",
        "Extra jobb: försöks- minus kontrollgruppens sysselsättning efter {h} veckor x försöksgrupp; streck: 95 %",
    ),
    "no_effect": ("no extra jobs shown", "ei havaittuja lisätyöllistyneitä", "inga extra jobb påvisade"),
    "open_upper": ("upper end unbounded", "yläraja avoin", "övre gräns obegränsad"),
    "displacement_title": (
        "Displacement: outcomes of those outside the pilot against the treated share",
        "Syrjäytysvaikutus: kokeilun ulkopuolisten tulokset kokeiluun osoitettujen osuuden mukaan",
        "Undanträngning: utfall för dem utanför försöket mot andelen i försöket",
    ),
    "treated_share": (
        "Share of the eligible in the pilot arm (%)",
        "Kokeiluryhmään osoitettujen osuus kohderyhmästä (%)",
        "Andel av målgruppen i försöksgruppen (%)",
    ),
    "employed_at": ("Employed {h} weeks after assignment (%)", "Työssä {h} viikkoa ryhmään osoittamisesta (%)",
                    "Sysselsatta {h} veckor efter tilldelningen (%)"),
    "untreated": ("Control arm (untreated)", "Verrokkiryhmä (ei kokeilussa)", "Kontrollgrupp (utanför försöket)"),
    "treated": ("Pilot arm", "Kokeiluryhmä", "Försöksgrupp"),
    "interval_note": ("Bands: 95 % interval of the mean over replications", "Vyöt: keskiarvon 95 %:n väli toistojen yli",
                      "Band: 95 %-intervall för medelvärdet över upprepningar"),
    "volume_mode_title": (
        "Does the pilot fill? Participants reached by referral rule",
        "Täyttyykö kokeilu? Osallistujat ohjaustavan mukaan",
        "Fylls försöket? Deltagare per anvisningsregel",
    ),
    "participants_reached": ("Participants reached (people)", "Saavutetut osallistujat (henkilöä)",
                             "Nådda deltagare (personer)"),
    "referral_rule": ("Referral rule", "Ohjaustapa", "Anvisningsregel"),
    "replication_dots": ("One dot per simulated pilot", "Piste = yksi simuloitu kokeilu", "En punkt per simulerat försök"),
    # size and diagnosis
    "power_title": (
        "How large must the pilot be? Power against pilot size",
        "Kuinka suuri kokeilun on oltava? Voima kokeilun koon mukaan",
        "Hur stort måste försöket vara? Styrka mot försökets storlek",
    ),
    "pilot_size": ("Pilot size (eligible job seekers randomised)", "Kokeilun koko (satunnaistetut työnhakijat)",
                   "Försökets storlek (lottade arbetssökande)"),
    "power_y": ("Power: chance of a significant result (%)", "Voima: merkitsevän tuloksen todennäköisyys (%)",
                "Styrka: sannolikhet för ett signifikant resultat (%)"),
    "simulated_power": ("Simulated power (95 % Monte Carlo band)", "Simuloitu voima (95 %:n Monte Carlo -vyö)",
                        "Simulerad styrka (95 % Monte Carlo-band)"),
    "analytic_power": ("Analytic formula", "Analyyttinen kaava", "Analytisk formel"),
    "analytic_minimum": ("Analytic formula (minimum {n})", "Analyyttinen kaava (vähintään {n})",
                         "Analytisk formel (minst {n})"),
    "target_power": ("Target power {p}", "Tavoitevoima {p}", "Målstyrka {p}"),
    "minimum_size": ("Minimum size {n} ({lo}-{hi})", "Vähimmäiskoko {n} ({lo}-{hi})", "Minsta storlek {n} ({lo}-{hi})"),
    "mde_title": (
        "Smallest effect the pilot can detect, by pilot size",
        "Pienin havaittava vaikutus kokeilun koon mukaan",
        "Minsta påvisbara effekt efter försökets storlek",
    ),
    "mde_y": ("Minimum detectable effect (percentage points)", "Pienin havaittava vaikutus (prosenttiyksikköä)",
              "Minsta påvisbara effekt (procentenheter)"),
    "mde_label": ("MDE at power {p}, alpha {a}", "MDE voimalla {p}, merkitsevyystaso {a}",
                  "MDE vid styrka {p}, signifikansnivå {a}"),
    "rollout_effect": ("Roll-out effect {e} pp", "Laajan käyttöönoton vaikutus {e} %-yks.",
                       "Effekt vid full utrullning {e} procentenheter"),
    "estimates_title": (
        "What one pilot would report: estimates over simulated pilots",
        "Mitä yksittäinen kokeilu raportoisi: estimaatit simuloiduista kokeiluista",
        "Vad ett försök skulle rapportera: skattningar över simulerade försök",
    ),
    "estimate_pp": ("Effect estimate (percentage points)", "Vaikutusestimaatti (prosenttiyksikköä)",
                    "Effektskattning (procentenheter)"),
    "pilots": ("Simulated pilots", "Simuloidut kokeilut", "Simulerade försök"),
    "significant": ("Significant", "Merkitsevä", "Signifikant"),
    "not_significant": ("Not significant", "Ei merkitsevä", "Inte signifikant"),
    "mean_estimate": ("Mean estimate {e} pp", "Estimaattien keskiarvo {e} %-yks.", "Medelskattning {e} procentenheter"),
}


def text(key: str, lang: str = "en", **fields: object) -> str:
    """The text `key` in `lang`, with `{fields}` filled in."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    template = TEXTS[key][LANGS.index(lang)]
    return template.format(**fields) if fields else template


def number(x: float | None, lang: str = "en", decimals: int = 0) -> str:
    """A number as `lang` writes it: 12,345.6 in English, 12 345,6 in Finnish and Swedish."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    s = f"{x:,.{decimals}f}"
    if lang == "en":
        return s
    return s.replace(",", "\u202f").replace(".", ",")


def percent(x: float | None, lang: str = "en", decimals: int = 0) -> str:
    """A share (0-1) as a percentage: 45% in English, 45 % in Finnish and Swedish."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return number(100 * x, lang, decimals) + ("%" if lang == "en" else "\u00a0%")
