"""The Spanish pack (dashboard/data/lang/es.yaml): short articles in Peruvian press Spanish, written for these tests.

Each test names the pack rule it exercises; the expected values are read off the sentences (publication date
Wednesday 10 March 2021 unless said otherwise).
"""

from datetime import date

import pytest

from dashboard import figures, temporal
from dashboard.corpus import parse_article
from dashboard.extraction import Extractor, _untallied, detect_language
from dashboard.langpack import load_pack
from dashboard.taxonomy import load_lexicon

REF = date(2021, 3, 10)  # a Wednesday


@pytest.fixture(scope="module")
def es():
    return load_pack("es")


def article(text, published=REF, name="n.txt", language="es"):
    meta = {"published": published}
    if language:
        meta["language"] = language
    return parse_article(text.encode(), name, meta)


def events(incidents):
    return [i for i in incidents if not i.background]


# ---------------------------------------------------------------------------------------------- detection
def test_spanish_is_detected_without_metadata(extractor):
    text = ("La policía informó que los agentes incautaron la droga en una vivienda del distrito, según "
            "fuentes de la región.\n")
    assert detect_language(text) == "es"
    assert extractor.language_of(article(text, language=None)) == "es"
    assert detect_language("The police said that the agents seized the drugs in a house of the district.") == "en"


# ---------------------------------------------------------------------------------------------- types
@pytest.mark.parametrize("text, kind", [
    # an attack on a moving patrol is an ambush
    ("Una patrulla del Ejército fue emboscada por narcoterroristas el lunes en Pichari.", "ambush"),
    ("Senderistas atacaron un convoy policial el lunes cerca de Llochegua.", "ambush"),
    # an attack on a base, a clash, a killing: armed attacks
    ("Narcoterroristas atacaron la base contraterrorista de Llochegua el lunes.", "armed_attack"),
    ("Un enfrentamiento entre soldados y senderistas se registró el lunes en Pichari.", "armed_attack"),
    ("Un atentado contra la comisaría de Pichari se produjo el lunes.", "armed_attack"),
    ("Un ataque en Pichari dejó el lunes un soldado herido.", "armed_attack"),
    ("La Policía incautó 200 kilos de cocaína el lunes en Paita.", "seizure"),
    ("Agentes decomisaron droga el lunes en Paita.", "seizure"),
    ("En Paita, la Policía halló 40 kilos de marihuana ocultos en un camión el lunes.", "seizure"),
    ("Agentes de la Dirandro desmantelaron un laboratorio clandestino el lunes en Pichari.", "lab_dismantling"),
    ("Los agentes destruyeron tres pozas de maceración el lunes en Pichari.", "lab_dismantling"),
    ("Militares inhabilitaron una pista de aterrizaje clandestina el lunes en Pichari.", "airstrip_destruction"),
    ("La voladura de dos narcopistas se realizó el lunes en Pichari.", "airstrip_destruction"),
    ("Trabajadores del CORAH erradicaron 300 hectáreas de hoja de coca el lunes en Pichari.", "eradication"),
    ("La Policía capturó al cabecilla de una banda el lunes en Pichari.", "arrest"),
    ("Cuatro extranjeros fueron detenidos el lunes en Pichari.", "arrest"),
])
def test_trigger_phrases_give_their_type(extractor, text, kind):
    found = events(extractor.extract(article(text + "\n")))
    assert [i.type for i in found] == [kind]
    assert found[0].date == "2021-03-08"


def test_an_ambush_needs_security_forces(extractor):
    incs = extractor.extract(article("Senderistas emboscaron a un grupo de turistas el lunes en Pichari.\n"))
    assert "ambush" not in [i.type for i in incs]


def test_a_death_is_an_attack_only_beside_violence(extractor):
    assert extractor.extract(article("Un soldado murió el lunes en un accidente de tránsito en Pichari.\n")) == []
    assert extractor.extract(article("Un campesino perdió la vida el lunes en el río, en Pichari.\n")) == []
    (inc,) = extractor.extract(article("Un soldado murió el lunes durante un ataque senderista en Pichari.\n"))
    assert (inc.type, inc.killed) == ("armed_attack", 1)


def test_a_light_aircraft_captured_is_a_seizure(extractor):
    (inc,) = extractor.extract(article(
        "El lunes la Policía capturó una avioneta con matrícula boliviana en Pichari.\n"))
    assert inc.type == "seizure"


def test_finding_out_is_not_finding_drugs(extractor):
    assert extractor.extract(article(
        "Los fiscales descubrieron que la droga salía por el puerto de Paita el lunes.\n")) == []
    (inc,) = extractor.extract(article("Los agentes encontraron droga en una mochila el lunes en Paita.\n"))
    assert inc.type == "seizure"


def test_arrest_warrants_and_precursors_alone_are_not_events(extractor):
    # "orden de captura" names a warrant, not a capture
    assert extractor.extract(article("El juez dictó orden de captura contra el alcalde de Pichari el lunes.\n")) == []
    # coca leaf with no drug is no seizure
    assert extractor.extract(article("Los agentes incautaron 300 kilos de hoja de coca el lunes en Pichari.\n")) == []


# ---------------------------------------------------------------------------------------------- dates
@pytest.mark.parametrize("phrase, start, end", [
    ("ayer", "2021-03-09", "2021-03-09"),
    ("anteayer", "2021-03-08", "2021-03-08"),
    ("la víspera", "2021-03-09", "2021-03-09"),
    ("el pasado martes", "2021-03-09", "2021-03-09"),
    ("el martes último", "2021-03-09", "2021-03-09"),
    ("este lunes", "2021-03-08", "2021-03-08"),
    ("la madrugada del domingo", "2021-03-07", "2021-03-07"),
    ("la noche del sábado", "2021-03-06", "2021-03-06"),
    ("el fin de semana", "2021-03-06", "2021-03-07"),
    ("la semana pasada", "2021-03-01", "2021-03-07"),
    ("a inicios de febrero", "2021-02-01", "2021-02-10"),
    ("a mediados de enero", "2021-01-11", "2021-01-20"),
    ("a fines de febrero", "2021-02-21", "2021-02-28"),
    ("la última semana de febrero", "2021-02-22", "2021-02-28"),
    ("en setiembre", "2020-09-01", "2020-09-30"),  # Peru's spelling; after March, so last year's
    ("en septiembre", "2020-09-01", "2020-09-30"),
    ("el 3 de marzo", "2021-03-03", "2021-03-03"),
    ("el 3 de marzo de 2019", "2019-03-03", "2019-03-03"),
    ("el 3 de marzo del 2019", "2019-03-03", "2019-03-03"),
    ("el 03/02/2021", "2021-02-03", "2021-02-03"),  # day first
    ("del 3 al 7 de marzo", "2021-03-03", "2021-03-07"),
    ("los días 5 y 6 de marzo", "2021-03-05", "2021-03-06"),
    ("entre el 28 de febrero y el 2 de marzo", "2021-02-28", "2021-03-02"),
    ("hace dos días", "2021-03-08", "2021-03-08"),
])
def test_spanish_date_phrases(es, phrase, start, end):
    (mention,) = temporal.find_dates(f"Los hechos ocurrieron {phrase} en la selva.", es)
    r = temporal.resolve(mention, REF, pack=es)
    assert (r.date.isoformat(), r.date_end.isoformat()) == (start, end)


def test_the_day_before_counts_from_the_date_just_given(extractor):
    inc = extractor.extract(article(
        "El 5 de marzo la Policía incautó 50 kilos de cocaína en Paita. Al día siguiente los agentes "
        "detuvieron a tres personas en Piura.\n"))
    assert sorted((i.type, i.date) for i in inc) == [("arrest", "2021-03-06"), ("seizure", "2021-03-05")]


def test_a_date_after_a_verb_of_saying_is_the_report_date(extractor):
    # "informó ayer": the report; the event has no date of its own but the lead's
    (inc,) = extractor.extract(article(
        "La Policía incautó 80 kilos de cocaína en Paita, informó ayer la institución.\n"))
    assert inc.flags == ["date from context"]


# ---------------------------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("text, value", [
    ("1.200", 1200), ("1,5", 1.5), ("2.350,75", 2350.75), ("veinte", 20), ("veintiún", 21), ("doscientos", 200),
    ("treinta y dos", 32), ("una", 1), ("dos mil quinientos", 2500), ("media docena", 6)])
def test_spanish_numbers(es, text, value):
    assert figures.parse_number(text, es) == value


@pytest.mark.parametrize("text, kg, substance", [
    ("Se incautaron 1.200 kilos de clorhidrato de cocaína.", 1200, "cocaine"),
    ("Se incautaron 1,5 toneladas de pasta básica de cocaína.", 1500, "cocaine base paste"),
    ("Se incautaron dos toneladas y media de marihuana.", 2500, "marijuana"),
    ("Se incautó una tonelada de droga.", 1000, "drugs"),
    ("Se incautaron más de 300 kilos de PBC.", 300, "cocaine base paste"),
    ("Se incautaron cerca de cuarenta kilos de cocaína.", 40, "cocaine"),
    ("Se incautaron 750 gramos de marihuana.", 0.75, "marijuana"),
])
def test_quantities_in_spanish(es, text, kg, substance):
    got, _, sub = figures.quantity(text, es)
    assert (got, sub) == (pytest.approx(kg), substance)


def test_precursors_and_coca_leaf_are_not_drug_quantities(es):
    text = "Hallaron 500 kilos de insumos químicos fiscalizados, 2 toneladas de hoja de coca y 20 kilos de PBC."
    assert [(q.kg, q.substance) for q in figures.quantities(text, es)] == [(20, "cocaine base paste")]
    assert figures.quantities("Hallaron 3 toneladas de insumos químicos.", es) == []


def test_rates_totals_and_tallies(es):
    # what a lab produced each month is no seizure
    assert figures.quantities("El laboratorio producía 600 kilos de cocaína al mes.", es) == []
    # a stated total wins over its parts
    kg, total, _ = figures.quantity("Hallaron 20 kilos en una casa y 30 en otra, un total de 50 kilos de cocaína.", es)
    assert (kg, total) == (50, True)
    # "desde 2008": the group's tally, not this attack's dead (the extractor reads casualties before the tally)
    text = "Los terroristas mataron a 3 soldados el lunes en Pichari y desde 2008 han asesinado a 40 personas."
    assert figures.casualties(_untallied(text, es.regex("casualties", "tally")), es) == (3, None)
    assert figures.casualties(text, es) == (40, None)


def test_packages_are_counted_not_weighed(es):
    # "paquetes de un kilo": the size of each package, not the haul
    assert figures.quantities("Se hallaron 1.200 paquetes de un kilo.", es) == []


@pytest.mark.parametrize("text, killed, wounded", [
    ("Cuatro policías murieron y dos resultaron heridos.", 4, 2),
    ("El ataque dejó seis muertos.", 6, None),
    ("Los atacantes asesinaron a tres comuneros.", 3, None),
    ("Los soldados abatieron a dos terroristas.", 2, None),
    ("Un soldado murió y otro quedó herido.", 1, 1),
    ("Subió a 5 el número de muertos del ataque.", 5, None),
    ("El ataque dejó un muerto y una decena de heridos.", 1, 10),
    ("Tres soldados murieron y otros tantos resultaron heridos.", 3, 3),
])
def test_casualties_in_spanish(es, text, killed, wounded):
    assert figures.casualties(text, es) == (killed, wounded)


@pytest.mark.parametrize("text, unit, count", [
    ("Fueron detenidos cuatro colombianos.", "arrested", 4),
    ("La Policía detuvo a tres presuntos narcotraficantes.", "arrested", 3),
    ("Un joven cayó en manos de la Policía.", "arrested", 1),
    ("Destruyeron 24 pistas de aterrizaje clandestinas.", "airstrips", 24),
    ("Desmantelaron 13 laboratorios y 5 pozas de maceración.", "labs", 13),
    ("Erradicaron 1.250 hectáreas de coca.", "hectares", 1250),
])
def test_counts_in_spanish(es, text, unit, count):
    assert figures.count_of(text, unit, es)[0] == count


def test_counts_are_of_people_and_may_be_approximate(es):
    # arrests are counted on people, not vehicles
    assert figures.count_of("La Policía capturó 3 vehículos.", "arrested", es)[0] is None
    assert figures.count_of("Destruyeron unas 20 pistas de aterrizaje.", "airstrips", es) == (20, True)
    assert figures.count_of("Destruyeron 20 pistas de aterrizaje.", "airstrips", es) == (20, False)


# ---------------------------------------------------------------------------------------------- places
def test_places_after_destination_and_origin_cues_are_not_the_event(extractor):
    (inc,) = extractor.extract(article(
        "El lunes la Policía incautó 90 kilos de cocaína procedentes de Pucallpa en Huánuco.\n"))
    assert "town:pucallpa" not in inc.place_ids and inc.place_ids
    (inc,) = extractor.extract(article(
        "El lunes la Policía incautó 90 kilos de cocaína en Paita con destino a Pucallpa.\n"))
    assert inc.place_ids == ["town:paita_2005"]


def test_north_of_a_place_is_not_in_it(extractor):
    (inc,) = extractor.extract(article(
        "El lunes militares destruyeron una pista de aterrizaje clandestina al norte de Pucallpa.\n"))
    assert inc.place_ids == []


def test_unknown_settlement_is_kept_as_text(extractor):
    for cue in ("en el centro poblado de", "en el caserío", "en la comunidad nativa de"):
        (inc,) = extractor.extract(article(f"El lunes la Policía incautó 30 kilos de cocaína {cue} Zyxtapampa.\n"))
        assert "Zyxtapampa" in (inc.unlocated_reason or ""), cue


def test_capitalised_place_words_do_not_make_a_person_name(extractor):
    # "Caserío Llochegua": a place word before the name, not a first name (the pack's name_words)
    (inc,) = extractor.extract(article("El lunes la Policía incautó 30 kilos de cocaína en el Caserío Llochegua.\n"))
    assert inc.place_ids == ["town:llochegua"]


def test_a_mayor_of_a_place_does_not_place_the_event(extractor):
    (inc,) = extractor.extract(article(
        "El alcalde de Huanta informó que el lunes la Policía incautó 30 kilos de cocaína en Paita.\n"))
    assert inc.place_ids == ["town:paita_2005"]


# ---------------------------------------------------------------------------------------------- datelines
@pytest.mark.parametrize("dateline, wire", [
    ("LIMA, 12 ene (EFE).- ", "EFE"),
    ("Lima, 5 de mayo (Andina).- ", "Andina"),
    ("AYACUCHO.- ", None),
    ("Huancayo: ", None),
    ("LIMA (Andina) - ", "Andina"),
    ("PUCALLPA, 9 mar (ANDINA).- ", "ANDINA"),
])
def test_datelines_name_the_desk_not_the_event(extractor, dateline, wire):
    (inc,) = extractor.extract(article(
        dateline + "La Policía incautó 30 kilos de cocaína el lunes en Paita, en la región Piura.\n"))
    assert inc.place_ids == ["town:paita_2005"]
    assert inc.reported_by == wire


def test_a_dateline_alone_does_not_place_the_event(extractor):
    (inc,) = extractor.extract(article("AYACUCHO.- La Policía incautó 30 kilos de cocaína el lunes.\n"))
    assert inc.place_ids == []


def test_outlet_named_after_a_medium_noun(extractor):
    (inc,) = extractor.extract(article(
        "La Policía incautó 30 kilos de cocaína el lunes en Paita, según informó el diario La Voz del Norte.\n"))
    assert inc.reported_by == "La Voz del Norte"


# ---------------------------------------------------------------------------------------------- actors
@pytest.mark.parametrize("text, actor", [
    ("Los narcoterroristas huyeron.", "Shining Path"),
    ("Los remanentes de Sendero huyeron.", "Shining Path"),
    ("Los terroristas huyeron.", "Shining Path"),
    ("Los narcotraficantes huyeron.", "Drug traffickers"),
    ("Una organización criminal opera en la zona.", "Criminal groups"),
    ("Los policías llegaron.", "Peruvian National Police"),
    ("Llegaron efectivos del Ejército.", "Peruvian Armed Forces"),
    ("Llegó la Marina de Guerra.", "Peruvian Armed Forces"),
    ("Los cocaleros protestaron.", "Coca growers"),
])
def test_spanish_actor_nouns(text, actor):
    assert actor in load_lexicon("es").find_actors(text)


def test_acronyms_come_from_the_taxonomy():
    found = load_lexicon("es").find_actors("La Dirandro, la PNP, el CE-VRAEM y DEVIDA participaron.")
    assert {"Peruvian National Police", "Peruvian Armed Forces", "DEVIDA and CORAH"} <= set(found)


# ---------------------------------------------------------------------------------------------- statements
@pytest.mark.parametrize("text", [
    "La Policía podría incautar más droga el lunes en Paita.",
    "Llegaron el lunes a Pichari para erradicar 300 hectáreas de coca.",
    "La Policía busca capturar el lunes a los narcotraficantes de Pichari.",
])
def test_modal_purpose_and_aim_clauses_are_not_events(extractor, text):
    assert extractor.extract(article(text + "\n")) == []


def test_charges_hide_only_the_trigger_they_name(extractor):
    # "acusado de asesinar ...": the charge is no attack; the capture after it is the event
    incs = extractor.extract(article(
        "Juan Pérez, acusado de asesinar a tres policías en Pichari, fue capturado el lunes.\n"))
    assert [i.type for i in incs] == ["arrest"]
    # the people charged are the subject of an arrest, which stays an event
    incs = extractor.extract(article("Cuatro acusados de narcotráfico fueron detenidos el lunes en Pichari.\n"))
    assert [(i.type, i.count) for i in incs] == [("arrest", 4)]
    # looking for those responsible for an attack does not make the attack a statement
    incs = extractor.extract(article(
        "La Policía busca a los responsables del ataque a la base de Pichari del lunes.\n"))
    assert [i.type for i in incs] == ["armed_attack"]


def test_aggregates_are_background(extractor):
    (inc,) = extractor.extract(article(
        "En lo que va del año la Policía incautó 3.000 kilos de cocaína en Piura.\n"))
    assert inc.background


@pytest.mark.parametrize("text", [
    "Hace diez años, senderistas emboscaron una patrulla en Pichari y mataron a cinco soldados.",
    "En la década de 1990 senderistas emboscaron una patrulla en Pichari y mataron a cinco soldados.",
    # "otro cargamento ... fue": an earlier haul named for comparison
    "Otro cargamento de 500 kilos de cocaína fue incautado en Paita el lunes.",
])
def test_recalls_are_background(extractor, text):
    (inc,) = extractor.extract(article(text + "\n"))
    assert inc.background


def test_a_relative_clause_does_not_make_the_event_background(extractor):
    incs = extractor.extract(article(
        "La Policía capturó el lunes en Pichari a un cabecilla, que en lo que va del año había enviado droga.\n"))
    assert [(i.type, i.background) for i in incs] == [("arrest", False)]


def test_anaphora_takes_the_date_of_the_next_sentence(extractor):
    # short sentences: no lead to fall back on, so only "La operación" ties the date to the lab
    (inc,) = extractor.extract(article(
        "Agentes desmantelaron un laboratorio en Pichari. La operación fue el 3 de marzo.\n"))
    assert (inc.type, inc.date) == ("lab_dismantling", "2021-03-03")


def test_pack_is_chosen_per_article(gazetteer):
    ex = Extractor(gazetteer)
    (es_inc,) = ex.extract(article("La Policía incautó 1.500 kilos de cocaína el lunes en Paita.\n", language=None))
    (en_inc,) = ex.extract(article("Police seized 1,500 kilos of cocaine in Paita on Monday.\n", language=None))
    assert (es_inc.language, es_inc.quantity_kg) == ("es", 1500)
    assert (en_inc.language, en_inc.quantity_kg) == ("en", 1500)


def test_the_first_sentence_takes_the_date_the_lead_gives_later(extractor):
    # the event is told first, its date in the next paragraph of the lead: that date is the best the text offers
    (inc,) = extractor.extract(article(
        "La Policía incautó 120 kilos de cocaína en una vivienda del distrito de Pichari, en la región Cusco.\n\n"
        "Los agentes ingresaron a la vivienda el 3 de marzo de 2021 con apoyo de fiscales antidrogas de la zona.\n"))
    assert (inc.type, inc.date, inc.flags) == ("seizure", "2021-03-03", ["date from context"])


@pytest.mark.parametrize("text, kg", [
    ("Se hallaron 2.4 toneladas de cocaína.", 2400),  # a point before one digit: a decimal point
    ("Se erradicaron 6496.64 hectáreas y se hallaron 59.51 toneladas de droga.", 59510),
    ("Se decomisaron 3 407 kilogramos de cocaína.", 3407),  # thousands grouped by a space
    ("El peso fue de 2 470.850 kilogramos de droga.", 2470.85),  # space groups: the point is decimal
    ("Se hallaron 1.200 kilos de cocaína.", 1200),  # a point before three digits still groups thousands
])
def test_numbers_in_the_other_convention(es, text, kg):
    got, _, _ = figures.quantity(text, es)
    assert got == pytest.approx(kg)


def test_the_lead_dates_the_event_before_the_report_date(extractor):
    # "informó hoy" is when it was told; the lead's range says when it happened
    (inc,) = extractor.extract(article(
        "El Comando Conjunto informó hoy que las fuerzas del orden destruyeron 12 pistas de aterrizaje clandestinas "
        "en el Vraem.\n\nLas acciones se realizaron entre el 1 y el 20 de febrero en dos etapas, según el "
        "comunicado oficial de la institución.\n"))
    assert (inc.type, inc.date, inc.date_end) == ("airstrip_destruction", "2021-02-01", "2021-02-20")


def test_a_namesake_outside_the_province_named_beside_it_is_dropped(extractor):
    # the gazetteer's two Vista Alegre districts lie in Amazonas and Ica, not in Padre Abad (Ucayali)
    (inc,) = extractor.extract(article(
        "El lunes la Policía incautó 30 kilos de cocaína en Vista Alegre, distrito de Curimaná, provincia de "
        "Padre Abad.\n"))
    assert inc.place_ids == ["dist:250303"]


def test_a_lead_naming_only_the_country_takes_the_first_place_given_later(extractor):
    # the lead (sentences of ten words or more) names only Peru; a short line after it names the place
    (inc,) = extractor.extract(article(
        "Dos presuntos senderistas murieron el lunes en un enfrentamiento con una patrulla militar en la selva "
        "del sur del Perú, informaron fuentes oficiales.\n\n"
        "La patrulla recorría Pichari.\n\n"
        "El comunicado oficial no precisó cuántos integrantes tenía la columna ni hacia dónde se dirigía.\n\n"
        "Los militares mantienen las operaciones de búsqueda y patrullaje en toda la zona desde entonces.\n"))
    assert (inc.type, inc.place_ids) == ("armed_attack", ["town:pichari"])


# ---------------------------------------------------------------------------------------------- mentions and figures
@pytest.mark.parametrize("text, kg", [
    # numbers.alt_thousands_mark: Peru's official convention, a comma before exactly three digits
    ("Los agentes hallaron 2,450 kilos de cocaína en el almacén.", 2450.0),
    ("Los agentes hallaron 1,234.5 kilos de cocaína en el almacén.", 1234.5),
    # ... while a decimal comma before one or two digits stays decimal
    ("Los agentes hallaron 2,45 toneladas de cocaína en el almacén.", 2450.0),
    # quantities.compound: a weight in two units
    ("La encomienda contenía tres kilos con doscientos gramos de cocaína.", 3.2),
    ("La encomienda contenía 5 kilos y 40 gramos de marihuana.", 5.04),
])
def test_numbers_in_both_conventions_and_weights_in_two_units(es, text, kg):
    got, _, _ = figures.quantity(text, es)
    assert got == pytest.approx(kg)


def test_a_weight_in_two_units_in_english():
    got, _, _ = figures.quantity("Officers found four kilos and 250 grams of cocaine in the parcel.", load_pack("en"))
    assert got == pytest.approx(4.25)


def test_a_summary_of_two_sites_gives_one_incident_per_site_with_its_own_weight(extractor):
    # the lead names the region and a sum; each later paragraph a district of its own and its part
    inc = events(extractor.extract(article(
        "La Policía informó del decomiso de 500 kilos de cocaína en dos operativos en el Vraem.\n\n"
        "En el primero, los agentes ingresaron a una vivienda del distrito de Pichari y encontraron 320 kilos de "
        "pasta básica de cocaína.\n\n"
        "En el segundo operativo, en el distrito de Llochegua, los agentes incautaron 180 kilos de clorhidrato de "
        "cocaína.\n")))
    # gazetteer ids: Llochegua (Huanta, Ayacucho) 050408, Pichari (La Convención, Cusco) 080910
    got = sorted((i.place_ids[0], i.quantity_kg) for i in inc)
    assert got == [("dist:050408", 180.0), ("dist:080910", 320.0)]


def test_the_weight_told_a_few_sentences_later_belongs_to_the_seizure(extractor):
    (inc,) = events(extractor.extract(article(
        "El martes la Policía decomisó un paquete postal con droga en el distrito de Breña.\n\n"
        "El envío estaba dirigido a una dirección en Europa.\n\n"
        "Dentro había seis cuadernos con las tapas forradas.\n\n"
        "El peritaje confirmó un peso de cuatro kilos con quinientos gramos de clorhidrato de cocaína.\n")))
    assert (inc.type, inc.quantity_kg) == ("seizure", 4.5)


def test_an_article_around_one_object_counts_one(es):
    # counts.single: "la pista", "una pista"; a plural object with no number counts nothing
    text = "Los agentes destruyeron la pista de aterrizaje clandestina."
    assert figures.count_of(text, "airstrips", es) == (1, False)
    assert figures.count_of("Los agentes inutilizaron una narcopista en la zona.", "airstrips", es) == (1, False)
    assert figures.count_of("Los agentes destruyeron las pistas de aterrizaje.", "airstrips", es) == (None, False)


def test_people_told_of_one_by_one_add_up(es):
    # three singular statements of wounded people in one sentence: three wounded
    text = ("Como consecuencia del ataque, el sargento Pérez resultó herido, el cabo Gómez quedó gravemente herido "
            "y un soldado, quien resultó con una herida leve, sigue en la base.")
    assert figures.casualties(text, es) == (None, 3)


def test_the_lead_is_not_merged_into_an_earlier_dated_clash_told_at_the_end(extractor):
    # the lead's clash has no date of its own (only the report's); the last paragraph recalls another one
    inc = events(extractor.extract(article(
        "Cuatro presuntos senderistas murieron en un enfrentamiento con una patrulla del Ejército en el distrito "
        "de Vizcatán del Ene, informó este lunes el Comando Conjunto.\n\n"
        "El comunicado oficial de las Fuerzas Armadas no precisó la fecha exacta ni la hora del combate.\n\n"
        "La zona es una de las más golpeadas por el narcotráfico y los remanentes de Sendero Luminoso.\n\n"
        "Los militares mantienen el patrullaje en los caseríos cercanos desde hace varias semanas.\n\n"
        "El 2 de marzo un soldado murió en un enfrentamiento en el Vraem.\n")))
    # the lead's clash is dated only by its report (Monday 8 March), which the earlier clash does not overlap
    assert sorted((i.date, i.killed) for i in inc) == [("2021-03-02", 1), ("2021-03-08", 4)]


def test_the_clash_told_just_before_takes_the_casualties_of_the_next_sentence(extractor):
    # "el enfrentamiento" in the sentence after the first clash goes on about it, not about the second one
    inc = events(extractor.extract(article(
        "Dos enfrentamientos entre militares y senderistas se registraron en el Vraem, informó hoy el Ejército.\n\n"
        "Según el general a cargo, la columna logró huir hoy de la zona tras el segundo enfrentamiento con la "
        "patrulla.\n\n"
        "El primer enfrentamiento ocurrió el lunes en el distrito de Pichari.\n\n"
        "El enfrentamiento dejó tres muertos entre los subversivos.\n\n"
        "El segundo enfrentamiento se produjo hoy en el mismo distrito, sin víctimas.\n")))
    by_date = {i.date: i.killed for i in inc}
    assert by_date["2021-03-08"] == 3
    assert by_date.get("2021-03-10") is None


@pytest.mark.parametrize("where, expected", [
    # places.hints before the name: "provincia de Huanta" is the province (prov:0504), not its capital town,
    # and the "región" after the comma is Ayacucho's hint, not Huanta's
    ("en la provincia de Huanta, región Ayacucho", "prov:0504"),
    # the district of Santa Rosa in La Mar (province 0505), not a town of that name elsewhere
    ("en el distrito de Santa Rosa, provincia de La Mar, región Ayacucho", "dist:0505"),
])
def test_spanish_hint_order_names_the_level(extractor, where, expected):
    (inc,) = events(extractor.extract(article(f"El lunes la Policía incautó 40 kilos de cocaína {where}.\n")))
    assert inc.place_ids[0].startswith(expected)


def test_the_headline_places_an_article_whose_text_names_no_place(extractor):
    # the text says only "en el litoral"; the headline names the department (Tumbes, dep:24)
    a = parse_article(
        "Decomisan cocaína en una lancha en Tumbes\n\n"
        "El martes, agentes de la Policía y de la Marina decomisaron 300 kilos de cocaína ocultos en una lancha "
        "que navegaba frente al litoral.\n".encode(), "n.txt", {"published": REF, "language": "es"})
    (inc,) = events(extractor.extract(a))
    assert inc.place_ids == ["dep:24"]


def test_an_exact_weight_beats_a_rounded_one(extractor):
    # quantities: "más de 1,5 toneladas" in the lead is approximate; the weighing further on is exact
    (inc,) = events(extractor.extract(article(
        "El martes la Policía decomisó más de 1,5 toneladas de cocaína en un almacén del Callao.\n\n"
        "Los investigadores revisaron los documentos de la empresa propietaria del local.\n\n"
        "El pesaje oficial de la droga decomisada arrojó 1.538 kilos de clorhidrato de cocaína.\n")))
    assert inc.quantity_kg == 1538.0


@pytest.mark.parametrize("text, n", [
    # counts.arrested: one person named after "a" (a nickname, a name, a ranked leader)
    ('La Dirandro capturó ayer en Pucallpa a alias "Chato", presunto jefe de una banda de narcotraficantes.', 1),
    ("Agentes antidrogas detuvieron el sábado en Tocache a Juan Quispe, acusado de lavar dinero del narcotráfico.",
     1),
    # ... and a number still counts the people ("a los tres")
    ("La Policía detuvo a los tres integrantes de la banda en Tingo María.", 3),
])
def test_an_arrest_of_one_named_person_counts_one(es, text, n):
    assert figures.count_of(text, "arrested", es) == (n, False)


def test_a_shared_town_name_outside_the_district_named_beside_it_gives_the_district(extractor):
    # the gazetteer's only "Nuevo Progreso" town lies in Tocache (San Martín); the hamlet here is in Pichari
    # (dist:080910, Cusco), which the text names right after it
    (inc,) = events(extractor.extract(article(
        "El lunes la Policía destruyó un laboratorio de droga en el caserío Nuevo Progreso, en el distrito de "
        "Pichari.\n")))
    assert inc.place_ids == ["dist:080910"]


def test_killing_and_wounding_told_with_gerunds(extractor):
    # casualties.cue reads "matando"/"hiriendo"; "a otros tres" counts the people named before
    (inc,) = events(extractor.extract(article(
        "El martes un grupo de narcoterroristas atacó a una patrulla militar en Pichari, matando a dos soldados e "
        "hiriendo a otros tres.\n")))
    assert (inc.killed, inc.wounded) == (2, 3)


def test_no_arrest_reported_is_no_arrest(extractor):
    # triggers.arrest.not_any: a negated arrest
    assert events(extractor.extract(article(
        "Las autoridades no precisaron si hubo detenidos tras el operativo del martes en Pichari.\n"))) == []
