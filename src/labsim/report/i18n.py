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
    "runs_detail": ("{n} runs", "{n} ajoa", "{n} körningar"),
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
    "cost_title_plain": ("Cost per extra job: what one more person in work costs the purchaser",
                         "Kustannus lisätyöllistynyttä kohden: mitä yksi lisätyöllinen maksaa tilaajalle",
                         "Kostnad per extra jobb: vad en person till i arbete kostar beställaren"),
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
    "dots_note": ("One dot per simulated pilot; the bar is their mean", "Piste = yksi simuloitu kokeilu; jana = keskiarvo",
                  "En punkt per simulerat försök; strecket är medelvärdet"),
    # size and diagnosis
    "power_title": (
        "How large must the pilot be? Power against pilot size",
        "Kuinka suuri kokeilun on oltava? Voima kokeilun koon mukaan",
        "Hur stort måste försöket vara? Styrka mot försökets storlek",
    ),
    "pilot_size_participants": ("Pilot size (places: participants with a provider)",
                                "Kokeilun koko (paikat: osallistujat palveluntuottajalla)",
                                "Försökets storlek (platser: deltagare hos en serviceproducent)"),
    "pilot_size_offices": ("Pilot size (TE offices in the pilot area)", "Kokeilun koko (TE-toimistoja kokeilualueella)",
                           "Försökets storlek (TE-byråer i försöksområdet)"),
    "pilot_size_intake-weeks": ("Pilot size (weeks of intake)", "Kokeilun koko (ohjausviikkoja)",
                                "Försökets storlek (intagsveckor)"),
    "unit_participants": ("participants", "osallistujaa", "deltagare"),
    "unit_offices": ("TE offices", "TE-toimistoa", "TE-byråer"),
    "unit_intake-weeks": ("weeks of intake", "ohjausviikkoa", "intagsveckor"),
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


#: The report's own texts (headings, questions, the answer's rows, captions, caveats).
TEXTS.update({
    "r_title": ("Pilot plan: {scenario}", "Kokeilusuunnitelma: {scenario}", "Försöksplan: {scenario}"),
    "r_made": (
        "Made with labsim {version} from the results in {folder}, {date}. Simulated data: every figure is a model result, not an observation.",
        "Tehty labsim {version} -ohjelmalla kansion {folder} tuloksista, {date}. Simuloitua aineistoa: luvut ovat mallin tuloksia, eivät havaintoja.",
        "Gjord med labsim {version} utifrån resultaten i {folder}, {date}. Simulerade data: alla siffror är modellresultat, inte observationer.",
    ),
    "r_question": ("The question", "Kysymys", "Frågan"),
    "r_assumptions": ("The scenario's assumptions", "Skenaarion oletukset", "Scenariots antaganden"),
    "r_answer": ("The answer", "Vastaus", "Svaret"),
    "r_charts": ("Charts", "Kuviot", "Diagram"),
    "r_caveats": ("What the model leaves out", "Mitä malli jättää huomiotta", "Vad modellen utelämnar"),
    "r_all_fields": ("All scenario fields", "Kaikki skenaarion kentät", "Alla fält i scenariot"),
    "q_size": (
        "How many job seekers must the pilot (kokeilu) randomise so that it finds the employment effect a full roll-out would have, with {power} power at significance level {alpha}?",
        "Kuinka monta työnhakijaa kokeiluun on satunnaistettava, jotta se havaitsee laajan käyttöönoton työllisyysvaikutuksen {power}:n voimalla merkitsevyystasolla {alpha}?",
        "Hur många arbetssökande måste försöket lotta för att påvisa den sysselsättningseffekt som en full utrullning skulle ha, med {power} styrka på signifikansnivån {alpha}?",
    ),
    "q_run": (
        "Will a pilot with {target} places and {mode} fill, and what would it show about employment?",
        "Täyttyykö kokeilu, jossa on {target} paikkaa ja {mode}, ja mitä se kertoisi työllisyydestä?",
        "Fylls ett försök med {target} platser och {mode}, och vad skulle det visa om sysselsättningen?",
    ),
    "q_sensitivity": (
        "Which assumption moves the pilot's power most over its evidence range?",
        "Mikä oletus muuttaa kokeilun voimaa eniten näytön sallimalla vaihteluvälillä?",
        "Vilket antagande påverkar försökets styrka mest inom sitt evidensintervall?",
    ),
    "sens_at": ("{n} {unit}", "{n} {unit}", "{n} {unit}"),
    "sens_tornado_title": (
        "Power at {at}: each assumption from the low to the high end of its range",
        "Voima, {at}: kukin oletus vaihteluvälinsä alapäästä yläpäähän",
        "Styrka vid {at}: varje antagande från intervallets nedre till övre ände",
    ),
    "sens_morris_title": (
        "What moves the power at {at}: Morris elementary effects",
        "Mikä muuttaa voimaa, {at}: Morrisin alkeisvaikutukset",
        "Vad påverkar styrkan vid {at}: Morris elementäreffekter",
    ),
    "sens_central": ("At the scenario's values: {p}", "Skenaarion arvoilla: {p}", "Vid scenariots värden: {p}"),
    "sens_power_x": ("Power (%)", "Voima (%)", "Styrka (%)"),
    "sens_mu_star": ("mu*: mean absolute effect on power", "mu*: keskimääräinen vaikutus voimaan (itseisarvo)",
                     "mu*: genomsnittlig absolut effekt på styrkan"),
    "sens_sigma": ("sigma: spread of the effects", "sigma: vaikutusten hajonta", "sigma: effekternas spridning"),
    "sens_mu_x": (
        "Change in power (percentage points) per step of 2/3 of the range",
        "Voiman muutos (prosenttiyksikköä) askelta kohden (2/3 vaihteluvälistä)",
        "Förändring i styrka (procentenheter) per steg om 2/3 av intervallet",
    ),
    "sens_detail": (
        "{sims} simulated pilots per point, {points} points",
        "{sims} simuloitua kokeilua pistettä kohden, {points} pistettä",
        "{sims} simulerade försök per punkt, {points} punkter",
    ),
    "n_sens_oat_v": ("power {lo} at {a}, {hi} at {b}", "voima {lo} arvolla {a}, {hi} arvolla {b}",
                     "styrka {lo} vid {a}, {hi} vid {b}"),
    "n_sens_morris_v": ("mu* {mu} pp (+- {conf}), sigma {sigma} pp over {a} - {b}",
                        "mu* {mu} %-yks. (+- {conf}), sigma {sigma} %-yks. välillä {a} - {b}",
                        "mu* {mu} procentenheter (+- {conf}), sigma {sigma} över {a} - {b}"),
    "read_sensitivity": (
        "The longest bar is the assumption to pin down first: within its evidence range it changes the "
        "pilot's power the most. Every point ran the same simulated worlds, so the differences are the "
        "assumptions', not chance.",
        "Pisin palkki on oletus, joka kannattaa selvittää ensin: näytön sallimalla välillä se muuttaa "
        "kokeilun voimaa eniten. Jokainen piste simuloitiin samoissa maailmoissa, joten erot johtuvat "
        "oletuksista, eivät sattumasta.",
        "Den längsta stapeln är antagandet att klarlägga först: inom sitt evidensintervall ändrar det "
        "försökets styrka mest. Varje punkt körde samma simulerade världar, så skillnaderna beror på "
        "antagandena, inte på slumpen.",
    ),
    "n_overstatement": ("Overstatement (ITT / roll-out effect)", "Yliarvio (ITT / laajan käyttöönoton vaikutus)",
                        "Överskattning (ITT / effekt vid full utrullning)"),
    "n_overstatement_v": (
        "{r} (95 % interval {lo} - {hi}, {worlds} worlds)",
        "{r} (95 %:n väli {lo} - {hi}, {worlds} maailmaa)",
        "{r} (95 % intervall {lo} - {hi}, {worlds} världar)",
    ),
    "n_overstatement_words": (
        "In this market the pilot's estimate is expected to be about {r} times the roll-out effect.",
        "Tässä työmarkkinatilanteessa kokeilun arvion odotetaan olevan noin {r}-kertainen laajan käyttöönoton vaikutukseen nähden.",
        "På denna arbetsmarknad väntas försökets skattning bli ungefär {r} gånger effekten vid full utrullning.",
    ),
    "n_rollout_size": ("Size to detect the roll-out effect", "Koko laajan käyttöönoton vaikutuksen havaitsemiseen",
                       "Storlek för att upptäcka effekten vid full utrullning"),
    "q_diagnose": (
        "How well would this pilot design estimate the effect a full roll-out would have?",
        "Kuinka hyvin tämä kokeiluasetelma arvioisi laajan käyttöönoton vaikutuksen?",
        "Hur väl skulle denna försöksdesign skatta effekten av en full utrullning?",
    ),
    "q_sweep": (
        "How do volume, effect and cost change with {varied}?",
        "Miten volyymi, vaikutus ja kustannukset muuttuvat, kun {varied} vaihtelee?",
        "Hur förändras volym, effekt och kostnad med {varied}?",
    ),
    "q_runs": (
        "How do these pilots compare: {names}?",
        "Miten nämä kokeilut eroavat toisistaan: {names}?",
        "Hur skiljer sig dessa försök åt: {names}?",
    ),
    # assumptions
    "a_description": ("Description", "Kuvaus", "Beskrivning"),
    "a_area": ("Area", "Alue", "Område"),
    "a_area_v": ("{seekers} registered job seekers (työnhakija), {offices} TE offices",
                 "{seekers} rekisteröityä työnhakijaa, {offices} TE-toimistoa",
                 "{seekers} registrerade arbetssökande, {offices} TE-byråer"),
    "a_eligible": ("Who is eligible", "Kohderyhmä", "Målgrupp"),
    "a_eligible_v": ("unemployed {lo}-{hi} weeks", "työttömänä {lo}-{hi} viikkoa", "arbetslösa {lo}-{hi} veckor"),
    "a_referral": ("Referral by the TE office", "TE-toimiston ohjaus", "TE-byråns anvisning"),
    "a_referral_v": ("{mode}; intake open {weeks} weeks; target {target} participants",
                     "{mode}; haku auki {weeks} viikkoa; tavoite {target} osallistujaa",
                     "{mode}; intag öppet {weeks} veckor; mål {target} deltagare"),
    "a_design": ("Design", "Asetelma", "Design"),
    "a_design_v": ("{randomisation} randomisation, {share} of the eligible to the pilot arm",
                   "satunnaistus: {randomisation}, {share} kohderyhmästä kokeiluryhmään",
                   "lottning: {randomisation}, {share} av målgruppen till försöksgruppen"),
    "a_providers": ("Service providers", "Palveluntuottajat", "Serviceproducenter"),
    "a_providers_v": ("{count} service providers, {capacity} clients each at a time, {weeks} weeks of service",
                      "{count} palveluntuottajaa, kullakin {capacity} asiakasta kerrallaan, palvelu {weeks} viikkoa",
                      "{count} serviceproducenter, {capacity} kunder var åt gången, {weeks} veckors tjänst"),
    "a_payment": ("Payment model", "Maksumalli", "Ersättningsmodell"),
    "a_payment_v": ("{preset}: attachment fee {attach} EUR, outcome fee (tulosperusteinen palkkio) {outcome} EUR",
                    "{preset}: aloituspalkkio {attach} euroa, tulosperusteinen palkkio {outcome} euroa",
                    "{preset}: startersättning {attach} euro, resultatbaserad ersättning {outcome} euro"),
    "a_market": ("Labour market", "Työmarkkinat", "Arbetsmarknad"),
    "a_market_on": ("jobs shared among competing seekers (displacement possible)",
                    "työpaikat jaetaan kilpailevien hakijoiden kesken (syrjäytysvaikutus mahdollinen)",
                    "jobben delas mellan konkurrerande sökande (undanträngning möjlig)"),
    "a_market_off": ("no competition for jobs (no displacement)", "ei kilpailua työpaikoista (ei syrjäytysvaikutusta)",
                     "ingen konkurrens om jobben (ingen undanträngning)"),
    "a_weeks": ("Weeks simulated", "Simuloidut viikot", "Simulerade veckor"),
    # answer rows
    "n_minimum_size": ("Minimum pilot size", "Kokeilun vähimmäiskoko", "Försökets minsta storlek"),
    "n_minimum_size_v": ("{n} {unit} (95 % interval {lo}-{hi})", "{n} {unit} (95 %:n väli {lo}-{hi})",
                         "{n} {unit} (95 %-intervall {lo}-{hi})"),
    "n_not_found": ("not reached within the sizes simulated", "ei saavutettu simuloiduilla koilla",
                    "inte nådd inom de simulerade storlekarna"),
    "n_analytic": ("Classical formula gives", "Klassinen kaava antaa", "Klassisk formel ger"),
    "n_analytic_v": ("{n} (for the effect's 95 % interval: {lo}-{hi})", "{n} (vaikutuksen 95 %:n välillä: {lo}-{hi})",
                     "{n} (för effektens 95 %-intervall: {lo}-{hi})"),
    "n_no_limit": ("no limit", "ei ylärajaa", "ingen övre gräns"),
    "n_eligible": ("Eligible job seekers needed", "Tarvittavat kohderyhmän työnhakijat", "Arbetssökande i målgruppen som behövs"),
    "n_intake_weeks": ("Intake weeks needed", "Tarvittava hakuaika (viikkoa)", "Intagsveckor som behövs"),
    "n_participants": ("Participants (with a service provider)", "Osallistujat (palveluntuottajalla)",
                       "Deltagare (hos en serviceproducent)"),
    "n_participants_v": ("{reached} of target {target} ({share})", "{reached}/{target} tavoitteesta ({share})",
                         "{reached} av målet {target} ({share})"),
    "n_mean_participants": ("Participants, mean per pilot", "Osallistujia keskimäärin", "Deltagare, medel per försök"),
    "n_take_up": ("Take-up in the pilot arm", "Osallistumisaste kokeiluryhmässä", "Deltagandegrad i försöksgruppen"),
    "n_effect": ("Employment effect, {h} weeks", "Työllisyysvaikutus, {h} viikkoa", "Sysselsättningseffekt, {h} veckor"),
    "n_effect_v": ("{d} percentage points (95 % CI {lo} to {hi})", "{d} prosenttiyksikköä (95 %:n luottamusväli {lo}...{hi})",
                   "{d} procentenheter (95 % konfidensintervall {lo} till {hi})"),
    "n_paid": ("Purchaser paid", "Tilaaja maksoi", "Beställaren betalade"),
    "n_paid_v": ("{total} EUR ({per} EUR per participant)", "{total} euroa ({per} euroa osallistujaa kohden)",
                 "{total} euro ({per} euro per deltagare)"),
    "n_cost_job": ("Cost per extra job", "Kustannus lisätyöllistynyttä kohden", "Kostnad per extra jobb"),
    "n_cost_job_v": ("{c} EUR (95 % interval {lo}-{hi})", "{c} euroa (95 %:n väli {lo}-{hi})", "{c} euro (95 %-intervall {lo}-{hi})"),
    "n_providers_viable": ("Service providers breaking even (share)", "Kannattavien palveluntuottajien osuus",
                           "Andel serviceproducenter som går med vinst"),
    "n_power": ("Power", "Voima", "Styrka"),
    "n_bias": ("Bias against the roll-out effect", "Harha suhteessa laajan käyttöönoton vaikutukseen",
               "Bias mot effekten vid full utrullning"),
    "n_rmse": ("Root mean squared error", "Keskineliövirheen neliöjuuri", "Kvadratroten ur medelkvadratfelet"),
    "n_coverage": ("Coverage of the 95 % interval", "95 %:n luottamusvälin kattavuus", "Täckning för 95 %-intervallet"),
    "n_type_s": ("Wrong sign among significant results", "Väärä etumerkki merkitsevissä tuloksissa",
                 "Fel tecken bland signifikanta resultat"),
    "n_pp_se": ("{v} percentage points (Monte Carlo SE {se})", "{v} prosenttiyksikköä (Monte Carlo -keskivirhe {se})",
                "{v} procentenheter (Monte Carlo-medelfel {se})"),
    "n_share_se": ("{v} (Monte Carlo SE {se})", "{v} (Monte Carlo -keskivirhe {se})", "{v} (Monte Carlo-medelfel {se})"),
    "t_variant": ("Variant", "Vaihtoehto", "Variant"),
    "t_pilots": ("Pilots", "Kokeiluja", "Försök"),
    "t_reached": ("Participants", "Osallistujat", "Deltagare"),
    "t_effect": ("Effect at {h} weeks (pp)", "Vaikutus {h} vk (%-yks.)", "Effekt efter {h} veckor (procentenheter)"),
    "t_paid": ("Purchaser paid (EUR)", "Tilaaja maksoi (euroa)", "Beställaren betalade (euro)"),
    "t_cost_job": ("Cost per extra job (EUR)", "Kustannus / lisätyöllistynyt (euroa)", "Kostnad per extra jobb (euro)"),
    "caveats": (
        "Wages, prices and the number of vacancies do not respond to the pilot; only the sharing of a fixed flow of hires does.|"
        "One employment area is modelled: movers, commuters and effects on other areas are left out.|"
        "Service providers choose effort each week from how they are paid; they do not learn, merge or enter during the pilot, and their costs are assumptions.|"
        "Counsellors at the TE office follow fixed rules for offers and referrals; their own judgement and caseload pressure beyond that are not modelled.|"
        "Outcomes are employment spells only: earnings, benefits paid, wellbeing and the quality of work beyond its form are not modelled.|"
        "The TE office's own administration and the cost of running the evaluation are not in the costs.|"
        "Parameters marked as assumptions in the scenario have no published source; the answer is only as good as they are.|"
        "Each result comes from simulated pilots: intervals show Monte Carlo and sampling uncertainty, not the uncertainty of the model's assumptions.",
        "Palkat, hinnat ja avoimien työpaikkojen määrä eivät reagoi kokeiluun; vain kiinteän rekrytointivirran jakautuminen muuttuu.|"
        "Mallissa on yksi työllisyysalue: muuttajat, pendelöijät ja vaikutukset muille alueille jäävät pois.|"
        "Palveluntuottajat valitsevat panostuksensa viikoittain maksutavan mukaan; ne eivät opi, yhdisty eikä uusia tule kokeilun aikana, ja niiden kustannukset ovat oletuksia.|"
        "TE-toimiston virkailijat noudattavat kiinteitä sääntöjä tarjouksissa ja ohjauksessa; heidän omaa harkintaansa ja asiakasmäärän painetta ei mallinneta.|"
        "Tuloksina ovat vain työjaksot: ansioita, maksettuja etuuksia, hyvinvointia ja työn laatua muodon lisäksi ei mallinneta.|"
        "TE-toimiston oma hallinto ja arvioinnin kustannukset eivät sisälly kustannuksiin.|"
        "Skenaariossa oletuksiksi merkityillä parametreilla ei ole julkaistua lähdettä; vastaus on vain niin hyvä kuin ne.|"
        "Tulokset tulevat simuloiduista kokeiluista: välit kuvaavat Monte Carlo- ja otantaepävarmuutta, eivät mallin oletusten epävarmuutta.",
        "Löner, priser och antalet lediga jobb reagerar inte på försöket; bara fördelningen av ett fast flöde av anställningar gör det.|"
        "Ett sysselsättningsområde modelleras: flyttare, pendlare och effekter på andra områden utelämnas.|"
        "Serviceproducenterna väljer sin insats varje vecka utifrån hur de får betalt; de lär sig inte, går inte samman och nya tillkommer inte under försöket, och deras kostnader är antaganden.|"
        "Handläggarna vid TE-byrån följer fasta regler för erbjudanden och anvisningar; deras eget omdöme och trycket från antalet kunder modelleras inte.|"
        "Utfallen är enbart anställningsperioder: inkomster, utbetalda förmåner, välbefinnande och arbetets kvalitet utöver dess form modelleras inte.|"
        "TE-byråns egen administration och kostnaden för utvärderingen ingår inte i kostnaderna.|"
        "Parametrar som i scenariot anges som antaganden saknar publicerad källa; svaret är bara så bra som de.|"
        "Varje resultat kommer från simulerade försök: intervallen visar Monte Carlo- och urvalsosäkerhet, inte osäkerheten i modellens antaganden.",
    ),
    # how to read each chart (also in docs/charts.md)
    "read_volume": (
        "Read: the green line is people who started with a service provider; where it meets the red dotted target, the pilot is full.",
        "Lue: vihreä viiva on palveluntuottajalla aloittaneet; kun se kohtaa punaisen pisteviivan, kokeilu on täynnä.",
        "Läs: den gröna linjen är de som börjat hos en serviceproducent; där den möter den röda prickade mållinjen är försöket fullt.",
    ),
    "read_stocks": (
        "Read: flat lines mean a steady labour market; the pilot's clients appear as the 'with a service provider' line.",
        "Lue: tasaiset viivat tarkoittavat vakaita työmarkkinoita; kokeilun asiakkaat näkyvät palveluntuottajan viivana.",
        "Läs: plana linjer betyder en stabil arbetsmarknad; försökets kunder syns som linjen 'hos en serviceproducent'.",
    ),
    "read_employment_by_arm": (
        "Read: the gap between the arms is the pilot's effect; an interval on the right that crosses zero means the pilot cannot tell.",
        "Lue: ryhmien välinen ero on kokeilun vaikutus; jos oikealla luottamusväli ylittää nollan, kokeilu ei pysty erottamaan vaikutusta.",
        "Läs: skillnaden mellan grupperna är försökets effekt; ett intervall till höger som korsar noll betyder att försöket inte kan avgöra.",
    ),
    "read_survival_by_arm": (
        "Read: the lower curve finds work faster; the horizontal gap is how many weeks sooner.",
        "Lue: alempi käyrä työllistyy nopeammin; vaakasuora ero kertoo, kuinka monta viikkoa aikaisemmin.",
        "Läs: den lägre kurvan hittar arbete snabbare; det vågräta avståndet är hur många veckor tidigare.",
    ),
    "read_provider_profit": (
        "Read: a provider to the right of its break-even mark covers its costs; one left of it, or never crossing zero, will want out.",
        "Lue: kannattavuusrajan oikealla puolella oleva palveluntuottaja kattaa kulunsa; vasemmalla oleva tai nollaa ylittämätön haluaa lopettaa.",
        "Läs: en serviceproducent till höger om sin nollpunkt täcker sina kostnader; en till vänster, eller som aldrig når noll, vill lämna.",
    ),
    "read_effort_by_employability": (
        "Read: a flat line treats all clients alike; a line rising to the right means the easiest clients get the most help.",
        "Lue: tasainen viiva kohtelee kaikkia asiakkaita samoin; oikealle nouseva viiva tarkoittaa, että helpoimmat saavat eniten apua.",
        "Läs: en plan linje behandlar alla kunder lika; en linje som stiger åt höger betyder att de lättaste kunderna får mest hjälp.",
    ),
    "read_cost_per_extra_job": (
        "Read: lower bars buy extra jobs more cheaply; long whiskers mean the pilot cannot pin the cost down.",
        "Lue: matalampi pylväs tuottaa lisätyöllistyneitä edullisemmin; pitkät janat tarkoittavat, ettei kustannusta voida määrittää tarkasti.",
        "Läs: lägre staplar ger extra jobb billigare; långa streck betyder att försöket inte kan fastställa kostnaden.",
    ),
    "read_displacement": (
        "Read: a solid line falling to the right means those outside the pilot lose jobs to participants: part of the measured effect is displacement.",
        "Lue: oikealle laskeva yhtenäinen viiva tarkoittaa, että kokeilun ulkopuoliset menettävät työpaikkoja osallistujille: osa mitatusta vaikutuksesta on syrjäytystä.",
        "Läs: en heldragen linje som faller åt höger betyder att de utanför försöket förlorar jobb till deltagarna: en del av den uppmätta effekten är undanträngning.",
    ),
    "read_volume_by_referral": (
        "Read: dots below the red target line are pilots that did not fill.",
        "Lue: punaisen tavoiteviivan alapuolella olevat pisteet ovat kokeiluja, jotka eivät täyttyneet.",
        "Läs: punkter under den röda mållinjen är försök som inte fylldes.",
    ),
    "read_power_curve": (
        "Read: the pilot needs the size where the blue curve crosses the target line; the shaded band is the uncertainty of that size.",
        "Lue: kokeilu tarvitsee koon, jossa sininen käyrä ylittää tavoiteviivan; varjostettu alue on koon epävarmuus.",
        "Läs: försöket behöver den storlek där den blå kurvan korsar mållinjen; det skuggade bandet är osäkerheten i den storleken.",
    ),
    "read_minimum_detectable_effect": (
        "Read: a pilot can only detect effects above the curve; it is large enough where the curve drops below the roll-out effect.",
        "Lue: kokeilu havaitsee vain käyrän yläpuolella olevat vaikutukset; se on riittävän suuri, kun käyrä laskee laajan käyttöönoton vaikutuksen alle.",
        "Läs: ett försök kan bara påvisa effekter ovanför kurvan; det är stort nog där kurvan sjunker under effekten vid full utrullning.",
    ),
    "read_estimates": (
        "Read: the spread is what a single pilot might report; the gap between the mean and the roll-out effect is the design's bias.",
        "Lue: hajonta kertoo, mitä yksittäinen kokeilu voisi raportoida; keskiarvon ja laajan käyttöönoton vaikutuksen ero on asetelman harha.",
        "Läs: spridningen är vad ett enskilt försök kan rapportera; avståndet mellan medelvärdet och effekten vid full utrullning är designens bias.",
    ),
    "read_minimum_detectable_effect_no_rollout": (
        "Read: a pilot can only detect effects above the curve; it is large enough where the curve drops below the effect you expect.",
        "Lue: kokeilu havaitsee vain käyrän yläpuolella olevat vaikutukset; se on riittävän suuri, kun käyrä laskee odotetun vaikutuksen alle.",
        "Läs: ett försök kan bara påvisa effekter ovanför kurvan; det är stort nog där kurvan sjunker under den effekt du väntar dig.",
    ),
    "read_estimates_no_rollout": (
        "Read: the spread is what a single pilot might report; grey bars are pilots that would have found nothing.",
        "Lue: hajonta kertoo, mitä yksittäinen kokeilu voisi raportoida; harmaat pylväät ovat kokeiluja, jotka eivät olisi löytäneet mitään.",
        "Läs: spridningen är vad ett enskilt försök kan rapportera; grå staplar är försök som inte skulle ha hittat något.",
    ),
    "individual": ("individual", "yksilötason", "individnivå"),
    "office": ("by TE office", "TE-toimistoittain", "per TE-byrå"),
})
