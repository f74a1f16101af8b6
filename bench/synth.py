"""Synthetic articles for benchmarks: the project's own templates filled with gazetteer places, dates and numbers.

``python bench/synth.py OUT_DIR N [en|es]`` writes N articles of about 600 words each, in English (the default) or
in Spanish as the Peruvian press writes it: dates "el 3 de marzo", "el pasado martes", "setiembre"; numbers
"1.200 kilos", "1,5 toneladas", "cuatro policías". Both languages share the event share and the places; every
sentence is the project's own.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

EVENT_TEMPLATES = [
    "On {day}, anti-drug police seized {num} kilograms of cocaine in {place}, reported {outlet}.",
    "Shining Path guerrillas ambushed a military patrol near {place} on {day}, killing {small} soldiers and "
    "wounding {small2} others.",
    "Security forces dismantled a cocaine laboratory in {place} on {day}, the Interior Ministry said.",
    "Between {day} and {day2}, police destroyed {small} clandestine airstrips in {place}, according to {outlet}.",
    "Authorities confiscated {tons} metric tons of coca paste at the port of {place} on {day}.",
]
FILLER = [
    "Analysts say the trade has adapted to pressure from the state, moving routes and changing methods.",
    "The government has announced a new strategy focused on alternative development and interdiction.",
    "Local residents told reporters that the presence of armed groups has grown in recent years.",
    "Officials did not say whether any arrests were made during the operation or afterwards.",
    "The region has long been a hub for coca cultivation and cocaine production in the Andes.",
    "Critics argue that eradication alone does little to change the economics of the drug trade.",
    "Prosecutors are investigating possible links between local officials and trafficking networks.",
    "Coca farmers have protested against forced eradication, demanding support for legal crops.",
]
PLACES = ["Pichari", "Llochegua", "Huanta province", "the VRAEM", "Callao", "Pucallpa", "Iquitos", "Tingo Maria",
          "Junín", "Ayacucho", "Puerto Inca province", "Ucayali", "Masisea district", "Santa Rosa de Yavarí",
          "the Triple Border", "the Upper Huallaga", "Tocache", "Satipo", "Paita", "Tumbes", "Puno", "Cusco"]
# Share of sentences that report an event. The seeds hold 8 events in about 150 article sentences (~5%); 8% keeps
# the synthetic articles a little denser than real news, so the benchmark errs on the slow side.
EVENT_SHARE = 0.08
OUTLETS = ["El Comercio", "La República", "Andina", "RPP", "Correo", "Peru21"]

# Spanish: the same five events, written the way Peruvian papers and wires put them (verb before its subject,
# the date as "el 3 de marzo" or "el pasado martes", the outlet named with what it is).
EVENT_TEMPLATES_ES = [
    "El {day}, agentes antidrogas de la Policía incautaron {num} kilos de cocaína en {place}, informó {outlet}.",
    "Remanentes de Sendero Luminoso emboscaron a una patrulla militar cerca de {place} el {day} y dejaron "
    "{small} soldados muertos y {small2} heridos.",
    "Las fuerzas del orden desmantelaron un laboratorio de droga en {place} el {day}, según el Ministerio del "
    "Interior.",
    "Entre el {day} y el {day2}, la Policía destruyó {small} pistas de aterrizaje clandestinas en {place}, "
    "según {outlet}.",
    "Las autoridades decomisaron {tons} toneladas de pasta básica de cocaína en el puerto de {place} el {day}.",
]
FILLER_ES = [
    "Según los analistas, el negocio se ha acomodado a la presión del Estado, con nuevas rutas y otros métodos.",
    "El Gobierno presentó una estrategia que apuesta por el desarrollo alternativo y por la interdicción.",
    "Vecinos de la zona contaron a la prensa que los grupos armados se dejan ver cada vez con más frecuencia.",
    "Las autoridades no precisaron si alguien quedó bajo arresto durante el operativo o en los días siguientes.",
    "La región es desde hace décadas un eje del cultivo de coca y de la elaboración de cocaína en los Andes.",
    "Para sus críticos, la erradicación por sí sola cambia muy poco las cuentas del tráfico de drogas.",
    "La Fiscalía indaga posibles nexos entre autoridades locales y redes dedicadas al narcotráfico.",
    "Los productores de coca han protestado contra la erradicación forzosa y piden apoyo para cultivos lícitos.",
]
PLACES_ES = ["Pichari", "Llochegua", "la provincia de Huanta", "el Vraem", "el Callao", "Pucallpa", "Iquitos",
             "Tingo María", "Junín", "Ayacucho", "la provincia de Puerto Inca", "Ucayali", "el distrito de Masisea",
             "Santa Rosa de Yavarí", "la triple frontera", "el Alto Huallaga", "Tocache", "Satipo", "Paita",
             "Tumbes", "Puno", "Cusco"]
OUTLETS_ES = ["el diario El Comercio", "el diario La República", "la agencia Andina", "la emisora RPP",
              "el diario Correo", "el diario Perú21"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "setiembre", "octubre",
             "noviembre", "diciembre"]
WEEKDAYS_ES = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
SMALL_ES = ["dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]


def _miles(n: int) -> str:
    """A whole number as Peruvian papers print it: "1.200" (a point between thousands)."""
    return f"{n:,}".replace(",", ".")


def _day_es(rng: random.Random, d: date, pub: date) -> str:
    """"3 de marzo", or the weekday ("pasado martes") for an event of the week before publication."""
    if (pub - d).days <= 6 and rng.random() < 0.5:
        return rng.choice(["", "pasado "]) + WEEKDAYS_ES[d.weekday()]
    return f"{d.day} de {MONTHS_ES[d.month - 1]}"


def _event_es(rng: random.Random, pub: date) -> str:
    d = pub - timedelta(days=rng.randrange(1, 20))
    d2 = d + timedelta(days=3)
    tons = rng.choice([f"{rng.randint(1, 9)}", f"{rng.randint(1, 9)},5"])
    small = rng.randint(2, 9)
    return rng.choice(EVENT_TEMPLATES_ES).format(
        day=_day_es(rng, d, pub), day2=f"{d2.day} de {MONTHS_ES[d2.month - 1]}", place=rng.choice(PLACES_ES),
        outlet=rng.choice(OUTLETS_ES), num=_miles(rng.randint(5, 3000)),
        small=SMALL_ES[small - 2] if rng.random() < 0.5 else small, small2=rng.randint(1, 5), tons=tons)


def article(rng: random.Random, index: int, lang: str = "en") -> str:
    """One synthetic article (~600 words) with a dateline and several incidents, in ``lang`` (``en``, ``es``)."""
    pub = date(2015, 1, 1) + timedelta(days=rng.randrange(3000))
    if lang == "es":
        # Spanish copy states its date in front matter, as the development articles do, and opens on a wire
        # dateline ("LIMA, 5 de mayo (Andina).-").
        lines = ["---", f"published: {pub.isoformat()}", "---", "", f"Informe sintético de incidentes {index}", "",
                 f"LIMA, {pub.day} de {MONTHS_ES[pub.month - 1]} (Andina).- Resumen de la semana en el país.", ""]
    else:
        lines = [f"Synthetic incident report {index}", "", f"PERU / {pub.strftime('%d %b %Y').upper()} BY BENCH BOT EN",
                 ""]
    words = 0
    while words < 600:
        para = []
        for _ in range(rng.randint(3, 5)):
            if rng.random() < EVENT_SHARE:
                if lang == "es":
                    s = _event_es(rng, pub)
                else:
                    d = pub - timedelta(days=rng.randrange(1, 20))
                    s = rng.choice(EVENT_TEMPLATES).format(
                        day=d.strftime("%B %-d"), day2=(d + timedelta(days=3)).strftime("%B %-d"),
                        place=rng.choice(PLACES), outlet=rng.choice(OUTLETS), num=f"{rng.randint(5, 3000):,}",
                        small=rng.randint(2, 9), small2=rng.randint(1, 5), tons=rng.randint(1, 9))
            else:
                s = rng.choice(FILLER_ES if lang == "es" else FILLER)
            para.append(s)
            words += len(s.split())
        lines += [" ".join(para), ""]
    return "\n".join(lines)


def write_corpus(out: Path, n: int, seed: int = 7, lang: str = "en") -> list[Path]:
    """Write ``n`` synthetic articles in ``lang`` (``en`` or ``es``) into ``out``."""
    if lang not in ("en", "es"):
        raise ValueError(f"no synthetic articles in {lang!r} (en, es)")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        path = out / (f"synthetic_{i:05d}.txt" if lang == "en" else f"synthetic_{lang}_{i:05d}.txt")
        path.write_text(article(rng, i, lang), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    write_corpus(Path(sys.argv[1]), int(sys.argv[2]), lang=sys.argv[3] if len(sys.argv) > 3 else "en")
