#!/usr/bin/env python3
"""Shared-solutions benchmark, run by bench/run against a started server. Standard library only.

Usage: solutions.py BASE_URL FACILITATOR_TOKEN [SOLUTIONS] [CONNECTIONS]

As the facilitator, creates an organisation and a member of it who signs in with a password.
That member then creates SOLUTIONS published solutions (default 10,000) for the organisation
with POST /v1/solutions, over CONNECTIONS concurrent keep-alive connections (default 16), as
fast as the server answers. The text is generated, always the same for the same SOLUTIONS:
Dutch sentences over a vocabulary of about 1,900 words (everyday words and compounds such as
`leercultuur`, some with diacritics such as `coördinatie`), drawn with Zipf frequencies, so
that a few words occur in nearly every solution and most in few. Themes are taken from the
existing themes (the demo themes when they are there, not bench/run's `bench-theme-*`).

From the generated text it picks the search words, as `q` matches them: every word of the
query must start a word of the title, summary or body, accents and case left aside. One word
that about 5% of the solutions hold, and a second word with it that brings the matches down
to about 1% (both with at least 21 matches, so that a page of 20 is full). Then it checks, as
an anonymous caller, that each query's first page holds 20 solutions and that paging through
all of its results finds every solution of this run that holds the words and none that does
not, and that one of the solutions reads back as published.

Prints one line of JSON: solutions created per second, the creation's p50/p99 latency, the
queries with their number of matches, the paths to measure (one-word search, two-word search,
one solution; `limit=20`), and "ok" with the failed checks in "failures".

Exit status: 0 when everything checks out; 2 when a check failed (the JSON line is still
printed, with "ok": false and the reasons in "failures"); 1 on an unexpected answer.
"""

import asyncio
import datetime
import http.client
import json
import random
import re
import sys
import time
import unicodedata
import urllib.parse
import uuid

# Short function words: common in every text, never picked as a search word.
STOPWORDS = """de het een en van in op met voor die dat is zijn we ze om te aan bij ook niet als door naar wat hoe
er of maar onze hun elke meer nog zo dan al wie waar wordt worden kan kunnen moet willen heeft hebben was""".split()

WORDS = """leren ontwikkeling medewerkers collega teamleden werkplek werkvloer opleiding vorming training coaching
mentor mentoren begeleiding feedback intervisie loopbaan loopbanen competenties vaardigheden talent talenten
motivatie inzetbaarheid werkbaarheid ervaring ervaringen kennis vakmanschap leidinggevende leidinggevenden
zaakvoerder ondernemers werkgevers werknemers ouderen jongeren nieuwkomers starters vijftigplussers generaties
afdeling atelier productie verpleegkundigen schrijnwerkers onderwijs bedrijf bedrijven organisatie
organisaties partners beleid overheid subsidie middelen planning rooster ploegen nachtdienst gesprekken
evaluatie resultaten vertrouwen fouten verbetering digitalisering technologie software tablet toepassing gegevens
privacy klanten patiënten bewoners leerlingen vakbond afspraken engagement welzijn gezondheid pensioen
eindeloopbaan jobrotatie jobcrafting duobaan peterschap meterschap buddy inwerking kennisdeling leerlunch
leerdoelen reflectie badge certificaat erkenning waardering zichtbaarheid groei verandering toekomst uitdaging
oplossing methode instrument stappenplan checklist workshop webinar inspiratie praktijk voorbeeld proef pilot
opschaling impact meting indicator enquête bevraging interview observatie analyse rapport advies coördinator
coördinatie ideeën financiële creëren geïnspireerd reëel efficiënt privé delen bespreken uitproberen toepassen
ondersteunen begeleiden motiveren stimuleren organiseren plannen evalueren verbeteren doorgeven overdragen aanleren
oefenen reflecteren herkennen benoemen waarderen erkennen investeren groeien veranderen vernieuwen samenwerken
luisteren vragen zoeken vinden kiezen beslissen starten volhouden opvolgen meten tonen informeel formeel praktisch
kort lang klein groot nieuw ervaren jong oudere jonge digitale duurzaam werkbaar flexibel haalbaar concreet
zichtbaar gedragen gedeeld samen dagelijks wekelijks maandelijks eenvoudig moeilijk belangrijk sterk open veilig
actief gemotiveerd betrokken waardevol succesvol""".split()

FIRSTS = """leer werk team loopbaan kennis talent ontwikkel opleidings competentie feedback ervarings praktijk
innovatie kwaliteit vakmanschaps zorg productie onthaal overleg project actie verbeter gespreks vaardigheids
generatie welzijns veiligheids planning peter mentor coach groeps netwerk sector kmo ploeg dienst afdelings
digitaal""".split()

TAILS = """plan traject moment cultuur aanpak netwerk gesprek doelen beleid kaart coach groep sessie dag uur budget
fonds platform pad portfolio logboek kader model vragen proces team klimaat vorm tijd ruimte wissel stage lus rol
bank matrix scan cirkel spel""".split()

# The results of piloted and proven solutions (results are not searched; their words are
# never picked as search words).
RESULTS = [
    "Na zes maanden zegt drie op vier deelnemers dat ze vaker van collega's leren.",
    "Het verloop in de eerste maanden halveerde; nieuwe mensen voelen zich sneller thuis.",
    "Twaalf teams namen deel; de aanpak loopt nu in heel de organisatie.",
    "Minder ziekteverzuim en meer kandidaten voor interne vacatures na een jaar.",
    "Elke deelnemer heeft een persoonlijk plan; de helft heeft het al bijgestuurd.",
]

SECTORS = ["Q", "86.10", "87.30", "C", "16.23", "25.62", "P", "85.59", "G", "47.11", "F", "41.20", "H", "I", "84.13"]
SIZES = ["micro", "small", "medium", "large"]
GROUPS = ["older_workers", "newcomers", "low_skilled", "young_workers", "jobseekers", "people_with_disabilities",
          "career_switchers", "managers", "all_employees"]
MATURITIES = ["idea", "piloted", "proven"]
SEED = 20261127


def fold(text):
    """Lowercase, without diacritics: how search sees a word."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tokens(text):
    return re.findall(r"[a-z0-9]+", fold(text))


class Corpus:
    """The generated solutions, the same for the same count."""

    def __init__(self, count, themes):
        rng = random.Random(SEED)
        # Plain words come mostly before compounds in the order of frequency.
        plain = set(WORDS)
        vocabulary = list(dict.fromkeys(WORDS + [f + t for f in FIRSTS for t in TAILS]))
        vocabulary.sort(key=lambda w: rng.random() * (0.3 if w in plain else 1.0))
        self.vocabulary = vocabulary
        # Zipf-Mandelbrot: the most frequent word is about 1% of the words that are no stopword.
        weights = [1 / (rank + 20) for rank in range(1, len(vocabulary) + 1)]
        self.cumulative = []
        total = 0.0
        for w in weights:
            total += w
            self.cumulative.append(total)
        self.rng = rng
        self.bodies = [self.solution(i, themes) for i in range(count)]

    def word(self):
        return self.rng.choices(self.vocabulary, cum_weights=self.cumulative)[0]

    def sentence(self, low, high):
        words = [self.rng.choice(STOPWORDS) if self.rng.random() < 0.4 else self.word()
                 for _ in range(self.rng.randint(low, high))]
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def paragraph(self):
        return " ".join(self.sentence(6, 14) for _ in range(self.rng.randint(3, 5)))

    def solution(self, i, themes):
        rng = self.rng
        title = " ".join(self.word() for _ in range(rng.randint(3, 7)))
        title = title[0].upper() + title[1:]
        parts = [self.paragraph(), "## Aanpak", self.paragraph()]
        parts.append("\n".join(f"- {self.sentence(3, 7)}" for _ in range(rng.randint(2, 4))))
        parts.append(self.paragraph())
        maturity = MATURITIES[i % 3]
        body = {
            "title": title,
            "summary": " ".join(self.sentence(8, 16) for _ in range(rng.randint(1, 2))),
            "body": "\n\n".join(parts),
            "context": {
                "sector": rng.choice(SECTORS),
                "size_band": rng.choice(SIZES),
                "target_groups": rng.sample(GROUPS, rng.randint(1, 3)),
            },
            "themes": rng.sample(themes, min(len(themes), rng.randint(1, 3))),
            "maturity": maturity,
            "status": "published",
        }
        if maturity != "idea":
            body["results"] = rng.choice(RESULTS)
        return body

    def matches(self):
        """For each vocabulary word: the indexes of the solutions that `q=word` finds."""
        starts = {}  # a token -> the vocabulary words it starts with
        folded = [(w, fold(w)) for w in self.vocabulary]
        found = {w: set() for w in self.vocabulary}
        for i, s in enumerate(self.bodies):
            for token in set(tokens(f"{s['title']} {s['summary']} {s['body']}")):
                if token not in starts:
                    starts[token] = [w for w, f in folded if token.startswith(f)]
                for w in starts[token]:
                    found[w].add(i)
        return found

    def queries(self):
        """(one word, its matches, the second word, the matches of both): about 5% and 1%."""
        count = len(self.bodies)
        shunned = set(tokens(" ".join(RESULTS))) | set(STOPWORDS)
        found = self.matches()
        candidates = [w for w in self.vocabulary
                      if w.isascii() and not any(t.startswith(w) for t in shunned) and len(found[w]) > 20]
        # Plain words read as real queries; compounds only when no plain word will do.
        candidates = [w for w in candidates if w in WORDS] or candidates
        if not candidates:
            sys.exit(f"no word matches more than 20 of {count} solutions; make more")

        def off(n, share):
            return abs(n - max(21, share * count))

        one = min(candidates, key=lambda w: (off(len(found[w]), 0.05), w))
        pairs = [w for w in candidates if not w.startswith(one) and not one.startswith(w)]
        two = min(pairs, key=lambda w: (off(len(found[one] & found[w]), 0.01), w))
        return one, found[one], two, found[one] & found[two]

    def varied(self, limit=400):
        """Words that each match 1% to 10% of the solutions: distinct searches (cache misses)."""
        count = len(self.bodies)
        found = self.matches()
        shunned = set(STOPWORDS)
        words = [w for w in self.vocabulary if w.isascii() and w not in shunned and count // 100 <= len(found[w]) <= count // 10]
        return sorted(words)[:limit]


class Api:
    """A small blocking JSON client over one keep-alive connection (setup and checks)."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def call(self, method, path, body=None, bearer=None, form=None, expect=None):
        headers = {}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if form is not None:
            data = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        else:
            data = None
        try:
            self.conn.request(method, path, body=data, headers=headers)
            res = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection (while the solutions were
            # made over other connections): open a new one. Only reads are repeated.
            if method != "GET":
                raise
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            self.conn.request(method, path, body=data, headers=headers)
            res = self.conn.getresponse()
        payload = res.read()
        if (expect is not None and res.status != expect) or res.status >= 300:
            sys.exit(f"{method} {path} answered {res.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def all_pages(self, path, bearer=None):
        """Every item of a cursor-paginated list (`path` has a query string)."""
        items, cursor = [], None
        while True:
            page = self.call("GET", path + (f"&cursor={urllib.parse.quote(cursor, safe='')}" if cursor else ""),
                             bearer=bearer)
            items.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items


async def read_response(reader):
    """Status and body of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    return status, b""


async def create_all(host, port, token, bodies, connections):
    """POSTs every body (encoded JSON) to /v1/solutions over `connections` keep-alive
    connections. Returns (ids in the order of `bodies`, latencies, seconds); exits on any
    answer but 201."""
    pending = iter(enumerate(bodies))
    ids = [None] * len(bodies)
    latencies = []

    async def worker():
        reader, writer = await asyncio.open_connection(host, port)
        head = (f"POST /v1/solutions HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n").encode()
        try:
            for i, data in pending:
                started = time.perf_counter()
                writer.write(head + f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
                status, payload = await read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 201:
                    sys.exit(f"POST /v1/solutions answered {status}: {payload[:300]!r}")
                ids[i] = json.loads(payload)["id"]
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return ids, latencies, time.perf_counter() - started


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def search_path(words, limit):
    return "/v1/solutions?" + urllib.parse.urlencode({"q": words, "limit": limit}, quote_via=urllib.parse.quote)


def check_search(api, words, expected, ours, failures):
    """The first page of `q=words` is full, and all pages hold exactly the `expected` ids among
    `ours` (other solutions, such as the demo data's, may match too). Returns the count found."""
    first = api.call("GET", search_path(words, 20))
    if len(first["data"]) != 20 or not first.get("next_cursor"):
        failures.append(f"q={words}: the first page holds {len(first['data'])} solutions "
                        f"(next_cursor {'set' if first.get('next_cursor') else 'missing'}), expected 20 and more")
    found = [s["id"] for s in api.all_pages(search_path(words, 200))]
    if len(found) != len(set(found)):
        failures.append(f"q={words}: paging answered {len(found) - len(set(found))} solutions twice")
    mine = set(found) & ours
    missed, extra = len(expected - mine), len(mine - expected)
    if missed or extra:
        failures.append(f"q={words}: found {len(mine)} of this run's solutions, expected {len(expected)} "
                        f"({missed} missed, {extra} that do not hold the words)")
    return len(set(found))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    base, token = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    connections = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    api = Api(base)
    run = uuid.uuid4().hex[:8]

    slugs = [t["slug"] for t in api.call("GET", "/v1/themes?limit=200", bearer=token)["data"]]
    themes = [s for s in slugs if not s.startswith("bench-theme-")] or slugs

    # The author: a member of a new organisation, signed in with a password.
    org = api.call("POST", "/v1/organisations", {"name": f"Bench oplossingen {run}", "kind": "employer"}, token)["id"]
    email = f"auteur.{run}@bench.example"
    made = api.call("POST", f"/v1/organisations/{org}/people", {
        "name": "Bench auteur",
        "email": email,
        "stakeholder_group": "hr_professional",
        "languages": ["nl"],
        "membership": {"role": "hr", "starts_on": "2020-01-01"},
    }, token, expect=201)
    person = made["person"]["id"]
    password = f"bench-{run}-samen-oplossen"
    api.call("PUT", f"/v1/people/{person}/password", {"new_password": password}, token)
    member = api.call("POST", "/v1/auth/token", form={"grant_type": "password", "username": email,
                                                       "password": password})["access_token"]

    corpus = Corpus(count, themes)
    for body in corpus.bodies:
        body["organisation_id"] = org
    one, one_expected, two, two_expected = corpus.queries()
    varied = corpus.varied()

    encoded = [json.dumps(body).encode() for body in corpus.bodies]
    ids, latencies, seconds = asyncio.run(create_all(api.host, api.port, member, encoded, connections))

    failures = []
    ours = set(ids)
    one_found = check_search(api, one, {ids[i] for i in one_expected}, ours, failures)
    both = f"{one} {two}"
    two_found = check_search(api, both, {ids[i] for i in two_expected}, ours, failures)
    single = f"/v1/solutions/{ids[len(ids) // 2]}"
    read = api.call("GET", single)
    if read["status"] != "published" or read["title"] != corpus.bodies[len(ids) // 2]["title"]:
        failures.append(f"GET {single} answered status {read['status']}, title {read['title']!r}")

    print(json.dumps({
        "solutions": count,
        "connections": connections,
        "seconds": round(seconds, 3),
        "per_s": round(count / seconds),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "one_word": one,
        "one_matches": len(one_expected),
        "one_found": one_found,
        "two_words": both,
        "two_matches": len(two_expected),
        "two_found": two_found,
        "one_path": search_path(one, 20),
        "two_path": search_path(both, 20),
        "single_path": single,
        "varied_words": varied,
        "varied_count": len(varied),
        "ok": not failures,
        "failures": failures,
    }))
    if failures:
        sys.exit(2)


if __name__ == "__main__":
    main()
