//! Demo challenges and solutions (text only; src/demo.rs seeds them).

/// A challenge a stakeholder brings to the network. `author` is a demo person's key (the
/// first name, lowercase, as in src/demo.rs); `key` names it in [`DemoSolution::challenges`].
pub struct DemoChallenge {
    pub key: &'static str,
    pub author: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub sector: Option<&'static str>,
    pub size_band: Option<&'static str>,
    pub target_groups: &'static [&'static str],
    pub themes: &'static [&'static str],
    pub status: &'static str,
}

/// One full version of a solution, as its author wrote it.
pub struct DemoRevision {
    pub author: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub body: &'static str,
    pub maturity: &'static str,
    pub results: Option<&'static str>,
}

/// A co-created solution. The first revision's author creates it; `co_authors` are the
/// people invited after that (the creator is not repeated there), and every later revision
/// is written by the creator or one of them. `event` is a demo event's key. Endorsements
/// are (person, note); comments are (person, body, replies as (person, body)).
pub struct DemoSolution {
    pub key: &'static str,
    pub challenges: &'static [&'static str],
    pub event: Option<&'static str>,
    pub co_authors: &'static [&'static str],
    pub sector: Option<&'static str>,
    pub size_band: Option<&'static str>,
    pub target_groups: &'static [&'static str],
    pub themes: &'static [&'static str],
    pub revisions: &'static [DemoRevision],
    pub published: bool,
    pub endorsements: &'static [(&'static str, &'static str)],
    pub comments: &'static [DemoComment],
}

/// A comment: (person, body, replies as (person, body)).
pub type DemoComment = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

pub const CHALLENGES: &[DemoChallenge] = &[
    DemoChallenge {
        key: "kennis-doorgeven-zorg",
        author: "jonas",
        title: "Hoe geven ervaren verpleegkundigen hun kennis door zonder zelf af te haken?",
        description: "Op onze afdelingen werkt een derde van de verpleegkundigen al meer dan vijfentwintig jaar in de \
            zorg. Zij weten hoe je een onrustige patiënt geruststelt, wanneer een wonde niet goed geneest en hoe je \
            een drukke nachtdienst doorkomt. Tegelijk starten er elk jaar tientallen nieuwe collega's, vaak met \
            weinig praktijkervaring.\n\n\
            We merken twee dingen:\n\n\
            - nieuwe collega's durven niet altijd vragen te stellen en leren vooral met vallen en opstaan;\n\
            - ervaren collega's voelen zich soms afgeschreven: ze krijgen minder zware diensten, maar óók minder \
            kansen om te groeien.\n\n\
            **Onze vraag:** hoe maken we van kennis doorgeven een ontwikkelkans voor de 55-plussers zelf, en niet \
            alleen een extra taak bovenop een volle werkdag?\n",
        sector: Some("86.10"),
        size_band: Some("large"),
        target_groups: &["older_workers", "newcomers"],
        themes: &["older-workers", "workplace-learning", "careers-at-every-age"],
        status: "addressed",
    },
    DemoChallenge {
        key: "leren-zonder-budget",
        author: "sofie",
        title: "Leren organiseren in een kleine houtbewerking, zonder opleidingsbudget of opleidingsverantwoordelijke",
        description: "We zijn met veertien in het atelier. Een opleiding buitenshuis betekent dat er een machine \
            stilvalt, en een opleidingsverantwoordelijke hebben we niet. Toch verandert ons vak snel: een nieuwe \
            CNC-machine, nieuwe afwerkingen, strengere veiligheidsregels.\n\n\
            De kennis zit in de hoofden van een paar ervaren schrijnwerkers. Als één van hen ziek is of met pensioen \
            gaat, staan we met de handen in het haar.\n\n\
            Wie heeft ervaring met leren op de werkvloer in een kmo, zonder dat het veel tijd of financiële middelen \
            kost? Ideeën over de kmo-portefeuille of het sectorfonds zijn óók welkom.\n",
        sector: Some("16.23"),
        size_band: Some("small"),
        target_groups: &["all_employees", "low_skilled"],
        themes: &["learning-in-smes", "informal-learning", "learning-as-competitive-advantage"],
        status: "addressed",
    },
    DemoChallenge {
        key: "informeel-leren-zichtbaar",
        author: "els",
        title: "Informeel leren zichtbaar maken zonder extra administratie",
        description: "Het grootste deel van wat mensen leren, gebeurt niet in een opleiding maar op het werk: door te \
            doen, door collega's te bevragen, door fouten te maken. Dat leren blijft meestal onzichtbaar, voor de \
            werkgever én voor de medewerker zelf.\n\n\
            Voor het beleid is dat een probleem: wat niet zichtbaar is, wordt niet erkend en niet ondersteund. \
            Tegelijk horen we van werkgevers dat ze geen nieuw registratiesysteem willen.\n\n\
            We zoeken voorbeelden van organisaties die informeel leren zichtbaar maken op een manier die medewerkers \
            zelf waardevol vinden. Wat werkt, wat niet, en wat hebben jullie nodig van de overheid?\n",
        sector: None,
        size_band: None,
        target_groups: &["all_employees"],
        themes: &["informal-learning", "lifelong-learning", "learning-culture"],
        status: "open",
    },
    DemoChallenge {
        key: "digitaal-mee",
        author: "pieter",
        title: "Oudere medewerkers mee met digitale werkvormen, zonder dat ze zich dom voelen",
        description: "In ons leerhuis werken we steeds meer met online leerplatformen, gedeelde agenda's en \
            videogesprekken. Een aantal collega's, ikzelf inbegrepen, is dat niet gewoon. Een klassieke \
            computercursus helpt weinig: je vergeet het meeste tegen dat je het echt nodig hebt.\n\n\
            Wat ik vooral hoor, is schaamte: niemand wil voor de derde keer vragen hoe je een bestand deelt. Hoe \
            organiseer je digitale ondersteuning die laagdrempelig is en er is op het moment dat je ze nodig hebt?\n",
        sector: Some("85.59"),
        size_band: Some("medium"),
        target_groups: &["older_workers", "low_skilled"],
        themes: &["digital-skills", "older-workers", "learning-together"],
        status: "open",
    },
];

pub const SOLUTIONS: &[DemoSolution] = &[
    DemoSolution {
        key: "tandemleren-zorg",
        challenges: &["kennis-doorgeven-zorg"],
        event: Some("intervisie-55"),
        co_authors: &["jonas"],
        sector: Some("86.10"),
        size_band: Some("large"),
        target_groups: &["older_workers", "newcomers"],
        themes: &["older-workers", "workplace-learning", "careers-at-every-age"],
        revisions: &[
            DemoRevision {
                author: "mira",
                title: "Tandemleren: een ervaren en een nieuwe verpleegkundige als duo",
                summary: "Een ervaren verpleegkundige en een nieuwe collega werken zes weken als duo. Ze leren van \
                    elkaar: de een brengt klinische ervaring in, de ander nieuwe technieken en frisse vragen.",
                body: "## Het idee\n\n\
                    Tijdens de intervisie over ontwikkelgesprekken met 55-plussers kwam steeds hetzelfde terug: \
                    ervaren collega's willen hun kennis graag doorgeven, maar niet als de oude die alles al weet. Ze \
                    willen óók zelf iets bijleren.\n\n\
                    Daarom stellen we tandems voor: een ervaren en een nieuwe verpleegkundige werken zes weken samen \
                    in dezelfde diensten. Allebei brengen ze iets in, allebei nemen ze iets mee.\n\n\
                    ## Hoe\n\n\
                    - Elke tandem kiest bij de start twee leerdoelen, één per persoon.\n\
                    - Na elke week bespreken ze een kwartier na: wat ging goed, wat proberen we volgende week?\n\
                    - Na zes weken vertelt de tandem op het teamoverleg wat ze geleerd hebben.\n",
                maturity: "idea",
                results: None,
            },
            DemoRevision {
                author: "jonas",
                title: "Tandemleren: een ervaren en een nieuwe verpleegkundige als duo",
                summary: "Een ervaren verpleegkundige en een nieuwe collega werken zes weken als duo, met elk een \
                    eigen leerdoel. De een brengt klinische ervaring in, de ander nieuwe technieken en frisse vragen. \
                    Getest op twee afdelingen.",
                body: "## Het idee\n\n\
                    Tijdens de intervisie over ontwikkelgesprekken met 55-plussers kwam steeds hetzelfde terug: \
                    ervaren collega's willen hun kennis graag doorgeven, maar niet als de oude die alles al weet. Ze \
                    willen óók zelf iets bijleren.\n\n\
                    Daarom werken we met tandems: een ervaren en een nieuwe verpleegkundige werken zes weken samen \
                    in dezelfde diensten. Allebei brengen ze iets in, allebei nemen ze iets mee.\n\n\
                    ## Hoe\n\n\
                    - Elke tandem kiest bij de start twee leerdoelen, één per persoon. De ervaren collega kiest vaak \
                    iets digitaals, zoals het elektronisch patiëntendossier.\n\
                    - Na elke week bespreken ze een kwartier na: wat ging goed, wat proberen we volgende week?\n\
                    - Na zes weken vertelt de tandem op het teamoverleg wat ze geleerd hebben.\n\n\
                    ## Wat de organisatie doet\n\n\
                    De hoofdverpleegkundige plant de tandems eerst in het rooster en pas daarna de rest. De \
                    coördinator van de afdeling bewaakt het wekelijkse kwartier en neemt het tandemleren op in de \
                    ontwikkelgesprekken van beide collega's.\n",
                maturity: "piloted",
                results: Some(
                    "Pilot op twee afdelingen (geriatrie en chirurgie) met acht tandems. Zeven van de acht nieuwe \
                     collega's zeggen dat ze sneller vragen durven te stellen; vijf ervaren collega's gebruiken het \
                     elektronisch patiëntendossier nu vlotter.",
                ),
            },
            DemoRevision {
                author: "mira",
                title: "Tandemleren: ervaren en nieuwe verpleegkundigen leren van elkaar",
                summary: "Een ervaren verpleegkundige en een nieuwe collega werken zes weken als duo, met elk een \
                    eigen leerdoel. Na een jaar loopt het op zes afdelingen: nieuwe collega's blijven langer, en \
                    55-plussers noemen het een bron van energie in plaats van een extra taak.",
                body: "## Het idee\n\n\
                    Tijdens de intervisie over ontwikkelgesprekken met 55-plussers kwam steeds hetzelfde terug: \
                    ervaren collega's willen hun kennis graag doorgeven, maar niet als de oude die alles al weet. Ze \
                    willen óók zelf iets bijleren. Een olijfboom, geen citroen.\n\n\
                    Daarom werken we met tandems: een ervaren en een nieuwe verpleegkundige werken zes weken samen \
                    in dezelfde diensten. Allebei brengen ze iets in, allebei nemen ze iets mee.\n\n\
                    ## Hoe\n\n\
                    - Elke tandem kiest bij de start twee leerdoelen, één per persoon. De ervaren collega kiest vaak \
                    iets digitaals, zoals het elektronisch patiëntendossier.\n\
                    - Na elke week bespreken ze een kwartier na: wat ging goed, wat proberen we volgende week?\n\
                    - Na zes weken vertelt de tandem op het teamoverleg wat ze geleerd hebben.\n\n\
                    ## Wat de organisatie doet\n\n\
                    De hoofdverpleegkundige plant de tandems eerst in het rooster en pas daarna de rest. De \
                    coördinator van de afdeling bewaakt het wekelijkse kwartier en neemt het tandemleren op in de \
                    ontwikkelgesprekken van beide collega's.\n\n\
                    ## Wat we leerden\n\n\
                    - Koppel niet automatisch de oudste aan de jongste: laat mensen mee kiezen met wie ze een tandem \
                    vormen.\n\
                    - Bescherm het wekelijkse kwartier. Bij drukte verdwijnt het anders als eerste.\n\
                    - Eén gedeelde dienst per week is het minimum; minder en de tandem valt uit elkaar.\n",
                maturity: "proven",
                results: Some(
                    "Na een jaar liepen 31 tandems op zes afdelingen. Het verloop van nieuwe verpleegkundigen in hun \
                     eerste jaar daalde van 18 % naar 11 %. In de ontwikkelgesprekken noemen 55-plussers het \
                     tandemleren het vaakst als iets waar ze energie van krijgen.",
                ),
            },
        ],
        published: true,
        endorsements: &[
            (
                "tom",
                "Precies wat we bedoelen met een ontwikkelstrategie in plaats van een ontziestrategie. We nemen het \
                 mee naar het sectoroverleg.",
            ),
            ("lotte", "Sterk voorbeeld. Ik stel het voor aan de bedrijven van ons sectorfonds, óók buiten de zorg."),
            (
                "pieter",
                "Als bijna-gepensioneerde herken ik me hierin: doorgeven en zelf blijven leren gaan goed samen.",
            ),
        ],
        comments: &[
            (
                "sofie",
                "Hoe lossen jullie het op als de twee van een tandem in verschillende ploegen werken? Bij ons in het \
                 atelier is dat het grootste probleem.",
                &[(
                    "mira",
                    "We plannen de tandems eerst in het rooster en pas daarna de rest. Dat vraagt wat puzzelwerk \
                     van de hoofdverpleegkundige, maar het lukt. Eén gedeelde dienst per week is het minimum.",
                )],
            ),
            (
                "els",
                "Interessant voor ons beleid rond werkbaar werk. Hebben jullie de extra planningstijd begroot? Dan \
                 kunnen we inschatten wat dit kost voor een kleinere organisatie.",
                &[(
                    "jonas",
                    "Ruwweg twee uur per tandem per week, vooral voor het nabespreken. We betalen dat uit het \
                     opleidingsbudget, omdat het een deel van de klassikale onthaalopleiding vervangt.",
                )],
            ),
        ],
    },
    DemoSolution {
        key: "vrijdagkwartier",
        challenges: &["leren-zonder-budget"],
        event: Some("kmo-webinar"),
        co_authors: &["karim", "lotte"],
        sector: Some("16.23"),
        size_band: Some("small"),
        target_groups: &["all_employees", "low_skilled"],
        themes: &["learning-in-smes", "informal-learning", "workplace-learning"],
        revisions: &[
            DemoRevision {
                author: "sofie",
                title: "Het vrijdagkwartier: elke week vijftien minuten leren van een collega",
                summary: "Elke vrijdag om half elf legt één medewerker in een kwartier iets uit aan de collega's, aan \
                    de machine of de werkbank. Geen opleidingsbudget nodig, wel een vaste afspraak.",
                body: "## Waarom\n\n\
                    In een kleine houtbewerking kun je niet zomaar een dag opleiding inplannen. Maar een kwartier \
                    per week lukt altijd, zeker op vrijdag, als de grote bestellingen de deur uit zijn.\n\n\
                    ## Hoe\n\n\
                    Elke vrijdag om half elf toont één collega iets wat hij of zij goed kan: een afwerking, een \
                    instelling van de CNC-machine, een manier om sneller op te meten. De anderen kijken, vragen en \
                    proberen het zelf.\n\n\
                    De zaakvoerder doet mee als leerling, niet als leraar.\n",
                maturity: "idea",
                results: None,
            },
            DemoRevision {
                author: "karim",
                title: "Het vrijdagkwartier: elke week vijftien minuten leren van een collega",
                summary: "Elke vrijdag om half elf legt één medewerker in een kwartier iets uit aan de collega's, aan \
                    de machine of de werkbank. Geen opleidingsbudget nodig, wel een vaste afspraak. Drie maanden \
                    getest in het atelier.",
                body: "## Waarom\n\n\
                    In een kleine houtbewerking kun je niet zomaar een dag opleiding inplannen. Maar een kwartier \
                    per week lukt altijd, zeker op vrijdag, als de grote bestellingen de deur uit zijn.\n\n\
                    ## Hoe\n\n\
                    Elke vrijdag om half elf toont één collega iets wat hij of zij goed kan: een afwerking, een \
                    instelling van de CNC-machine, een manier om sneller op te meten. De anderen kijken, vragen en \
                    proberen het zelf.\n\n\
                    De zaakvoerder doet mee als leerling, niet als leraar.\n\n\
                    ## Tips van de werkvloer\n\n\
                    - Hou het bij de machine, niet in de refter. Wie het ziet en zelf doet, onthoudt het.\n\
                    - Film het kwartier met een gsm. Wie er niet was, kijkt het filmpje later.\n\
                    - Een lijst op het bord toont wie al eens uitlegde. Wie nog niet aan de beurt was, krijgt als \
                    eerste de vraag.\n\
                    - Iets wat je buiten het werk leerde, mag óók: een collega legde uit hoe hij zijn \
                    fiets herstelt.\n",
                maturity: "piloted",
                results: Some(
                    "Drie maanden getest: twaalf vrijdagkwartieren, gegeven door elf verschillende collega's. Twee \
                     nieuwe medewerkers kunnen de CNC-machine nu zelf instellen.",
                ),
            },
            DemoRevision {
                author: "lotte",
                title: "Het vrijdagkwartier: elke week vijftien minuten leren van een collega",
                summary: "Elke vrijdag om half elf legt één medewerker in een kwartier iets uit aan de collega's, aan \
                    de machine of de werkbank. Geen opleidingsbudget nodig, wel een vaste afspraak. Getest in een \
                    houtbewerking van veertien mensen; het sectorfonds ondersteunt kmo's die willen starten.",
                body: "## Waarom\n\n\
                    In een kleine houtbewerking kun je niet zomaar een dag opleiding inplannen. Maar een kwartier \
                    per week lukt altijd, zeker op vrijdag, als de grote bestellingen de deur uit zijn.\n\n\
                    ## Hoe\n\n\
                    Elke vrijdag om half elf toont één collega iets wat hij of zij goed kan: een afwerking, een \
                    instelling van de CNC-machine, een manier om sneller op te meten. De anderen kijken, vragen en \
                    proberen het zelf.\n\n\
                    De zaakvoerder doet mee als leerling, niet als leraar.\n\n\
                    ## Tips van de werkvloer\n\n\
                    - Hou het bij de machine, niet in de refter. Wie het ziet en zelf doet, onthoudt het.\n\
                    - Film het kwartier met een gsm. Wie er niet was, kijkt het filmpje later.\n\
                    - Een lijst op het bord toont wie al eens uitlegde. Wie nog niet aan de beurt was, krijgt als \
                    eerste de vraag.\n\
                    - Iets wat je buiten het werk leerde, mag óók: een collega legde uit hoe hij zijn \
                    fiets herstelt.\n\n\
                    ## Starten in je eigen kmo\n\n\
                    Het kwartier zelf kost niets behalve werktijd. Wie collega's wil leren uitleggen, kan bij het \
                    sectorfonds een korte opleiding voor peters en meters volgen; die telt mee voor de \
                    kmo-portefeuille. Begin met drie vrijwilligers en een vaste dag, en evalueer na tien weken met \
                    het hele team.\n",
                maturity: "piloted",
                results: Some(
                    "Drie maanden getest: twaalf vrijdagkwartieren, gegeven door elf verschillende collega's. Twee \
                     nieuwe medewerkers kunnen de CNC-machine nu zelf instellen. Na het webinar startten vier andere \
                     kmo's uit de houtsector met een eigen vrijdagkwartier.",
                ),
            },
        ],
        published: true,
        endorsements: &[
            ("jonas", "Eenvoudig en haalbaar. We proberen het in de technische dienst van het ziekenhuis."),
            ("tom", "Goed dat het tijdens de werkuren gebeurt. Zo is leren geen gunst, maar deel van het werk."),
        ],
        comments: &[(
            "pieter",
            "Mooi idee. Hoe voorkom je dat altijd dezelfde mensen het woord nemen?",
            &[(
                "karim",
                "Met de lijst op het bord: wie al eens uitlegde, zet een streepje. Wie nog geen streepje heeft, krijgt \
                 als eerste de vraag. En niemand moet: je mag óók met twee een kwartier geven.",
            )],
        )],
    },
    DemoSolution {
        key: "leerlogboek-twee-minuten",
        challenges: &["informeel-leren-zichtbaar"],
        event: Some("informeel-leren"),
        co_authors: &["pieter"],
        sector: Some("C"),
        size_band: Some("medium"),
        target_groups: &["all_employees"],
        themes: &["informal-learning", "lifelong-learning", "learning-culture"],
        revisions: &[
            DemoRevision {
                author: "lotte",
                title: "Leermomenten vastleggen in twee minuten: een leerlogboek dat van de medewerker is",
                summary: "Medewerkers noteren in twee minuten wat ze deze week leerden op het werk. Zij kiezen zelf \
                    wat ze delen met hun leidinggevende.",
                body: "## Het idee\n\n\
                    Informeel leren zichtbaar maken lukt niet met nog een formulier. Het moet sneller zijn dan een \
                    e-mail schrijven, en het moet van de medewerker zelf blijven.\n\n\
                    ## Hoe\n\n\
                    Elke medewerker houdt een kort leerlogboek bij: wat deed je, wat leerde je, van wie? Drie vragen, \
                    twee minuten, op de gsm of op papier. Wat je noteert, is privé, tot je zelf beslist \
                    het te delen.\n\n\
                    In het jaarlijkse ontwikkelgesprek neemt de medewerker het logboek mee, als hij of zij dat wil.\n",
                maturity: "idea",
                results: None,
            },
            DemoRevision {
                author: "pieter",
                title: "Leermomenten vastleggen in twee minuten: een leerlogboek dat van de medewerker is",
                summary: "Medewerkers noteren in twee minuten wat ze deze week leerden op het werk. Zij kiezen zelf \
                    wat ze delen met hun leidinggevende. Getest bij drie metaalbedrijven en in ons leerhuis.",
                body: "## Het idee\n\n\
                    Informeel leren zichtbaar maken lukt niet met nog een formulier. Het moet sneller zijn dan een \
                    e-mail schrijven, en het moet van de medewerker zelf blijven.\n\n\
                    ## Hoe\n\n\
                    Elke medewerker houdt een kort leerlogboek bij: wat deed je, wat leerde je, van wie? Drie vragen, \
                    twee minuten, op de gsm of op papier. Wat je noteert, is privé, tot je zelf beslist \
                    het te delen.\n\n\
                    In het jaarlijkse ontwikkelgesprek neemt de medewerker het logboek mee, als hij of zij dat wil.\n\n\
                    ## Wat hielp\n\n\
                    - Een vast moment: de laatste vijf minuten van het teamoverleg op vrijdag.\n\
                    - Voorbeelden van collega's. Veel mensen denken eerst dat ze niets geleerd hebben; na een paar \
                    voorbeelden vinden ze er drie.\n\
                    - Leidinggevenden die hun eigen logboek tonen. Dat maakt duidelijk dat iedereen leert, op elke \
                    leeftijd.\n",
                maturity: "piloted",
                results: Some(
                    "Zes maanden getest bij drie metaalbedrijven en in het leerhuis: 64 deelnemers, van wie 41 hun \
                     logboek na drie maanden nog elke week gebruiken. Een derde deelde minstens één leermoment met de \
                     leidinggevende.",
                ),
            },
        ],
        published: true,
        endorsements: &[
            ("sofie", "Dit combineren we met ons vrijdagkwartier: wie uitlegt, noteert het óók in het logboek."),
            ("mira", "Fijn dat de medewerker zelf kiest wat gedeeld wordt. Dat maakt het veilig."),
        ],
        comments: &[(
            "els",
            "Dit sluit aan bij wat we zoeken. Kan het logboek later aansluiten op de erkenning van competenties, \
             bijvoorbeeld via een ervaringsbewijs?",
            &[(
                "lotte",
                "Dat is de volgende stap. We willen eerst zien of mensen het na een jaar nog gebruiken; daarna \
                 bekijken we graag samen hoe het aansluit op erkenning.",
            )],
        )],
    },
    DemoSolution {
        key: "digitale-buddys",
        challenges: &["digitaal-mee"],
        event: None,
        co_authors: &["karim"],
        sector: Some("85.59"),
        size_band: Some("medium"),
        target_groups: &["older_workers", "young_workers"],
        themes: &["digital-skills", "learning-together", "careers-at-every-age"],
        revisions: &[
            DemoRevision {
                author: "pieter",
                title: "Digitale buddy's: jong en oud leren samen werken met nieuwe tools",
                summary: "Elke medewerker die met een digitale tool worstelt, krijgt een vaste buddy bij wie je \
                    zonder schaamte voor de derde keer iets mag vragen.",
                body: "## Het idee\n\n\
                    Een computercursus helpt weinig als je de vraag pas drie weken later hebt. Wat wel helpt: een \
                    vaste collega bij wie je terechtkunt, op het moment zelf.\n\n\
                    ## Hoe\n\n\
                    Wie wil, wordt digitale buddy van een collega. Buddy's zijn vaak jongere collega's, maar niet \
                    altijd: het gaat om wie een tool goed kent en geduld heeft. Er zijn geen domme vragen, en \
                    dezelfde vraag drie keer stellen is normaal.\n",
                maturity: "idea",
                results: None,
            },
            DemoRevision {
                author: "karim",
                title: "Digitale buddy's: jong en oud leren samen werken met nieuwe tools",
                summary: "Elke medewerker die met een digitale tool worstelt, krijgt een vaste buddy bij wie je \
                    zonder schaamte voor de derde keer iets mag vragen. En de buddy leert terug: vakkennis, \
                    klantcontact of hoe je een moeilijk gesprek voert.",
                body: "## Het idee\n\n\
                    Een computercursus helpt weinig als je de vraag pas drie weken later hebt. Wat wel helpt: een \
                    vaste collega bij wie je terechtkunt, op het moment zelf.\n\n\
                    ## Hoe\n\n\
                    Wie wil, wordt digitale buddy van een collega. Buddy's zijn vaak jongere collega's, maar niet \
                    altijd: het gaat om wie een tool goed kent en geduld heeft. Er zijn geen domme vragen, en \
                    dezelfde vraag drie keer stellen is normaal.\n\n\
                    ## In twee richtingen\n\n\
                    Bij Houtbewerking Lievens hielp ik een ervaren collega met de planning op de tablet. Hij leerde \
                    mij in ruil hoe je eik en beuk herkent aan de nerf. Zo voelt niemand zich de leerling van \
                    dienst. We spreken een half uur per week af, binnen de werktijd.\n",
                maturity: "piloted",
                results: Some(
                    "In het leerhuis en bij Houtbewerking Lievens vormden negen duo's een half jaar lang een \
                     buddyteam. Alle negen oudere collega's gebruiken de gedeelde agenda nu zelfstandig.",
                ),
            },
        ],
        published: true,
        endorsements: &[(
            "mira",
            "Herkenbaar: bij ons helpt een jonge collega mij met het nieuwe dossier, ik help haar met moeilijke \
             gesprekken.",
        )],
        comments: &[(
            "tom",
            "Let op dat de jonge buddy's dit niet bovenop hun gewone werk moeten doen. Voorzie er tijd voor.",
            &[(
                "pieter",
                "Terecht. We rekenen een half uur per week als werktijd, en de buddy's kiezen zelf of ze meedoen.",
            )],
        )],
    },
    DemoSolution {
        key: "leercultuurscan-kmo",
        challenges: &["leren-zonder-budget", "informeel-leren-zichtbaar"],
        event: Some("lerend-netwerk-hr"),
        co_authors: &["sofie"],
        sector: None,
        size_band: Some("small"),
        target_groups: &["managers", "all_employees"],
        themes: &["learning-culture", "learning-in-smes", "inspiration-to-action"],
        revisions: &[
            DemoRevision {
                author: "jonas",
                title: "Een leercultuurscan in een uur: van inspiratie naar een eerste actie",
                summary: "Een korte vragenlijst en één teamgesprek om te zien hoe leren nu loopt in je organisatie, \
                    en welke eerste stap je deze maand zet.",
                body: "## Waarom\n\n\
                    Na een inspiratiesessie weten veel leidinggevenden wat ze willen, maar niet waar ze moeten \
                    beginnen. Een scan maakt zichtbaar waar het leren vandaag al goed loopt, en waar het vastzit.\n\n\
                    ## Hoe\n\n\
                    - Iedereen vult twintig vragen in over leren op het werk: durf je fouten te melden, krijg je \
                    tijd om iets uit te proberen, vraagt je leidinggevende wat je geleerd hebt?\n\
                    - In één teamgesprek van een uur bespreek je de resultaten.\n\
                    - Het team kiest samen één actie voor de komende maand.\n",
                maturity: "idea",
                results: None,
            },
            DemoRevision {
                author: "sofie",
                title: "Een leercultuurscan in een uur: van inspiratie naar een eerste actie",
                summary: "Tien vragen en één teamgesprek om te zien hoe leren nu loopt in je organisatie, en welke \
                    eerste stap je deze maand zet. Gemaakt voor kmo's zonder HR-afdeling.",
                body: "## Waarom\n\n\
                    Na een inspiratiesessie weten veel leidinggevenden wat ze willen, maar niet waar ze moeten \
                    beginnen. Een scan maakt zichtbaar waar het leren vandaag al goed loopt, en waar het vastzit.\n\n\
                    ## Hoe\n\n\
                    - Iedereen vult tien vragen in over leren op het werk: durf je fouten te melden, krijg je tijd \
                    om iets uit te proberen, vraagt je leidinggevende wat je geleerd hebt?\n\
                    - In één teamgesprek van een uur bespreek je de resultaten. De zaakvoerder luistert eerst en \
                    spreekt als laatste.\n\
                    - Het team kiest samen één actie voor de komende maand, bijvoorbeeld een vrijdagkwartier of een \
                    leerlogboek.\n\n\
                    ## Nog te doen\n\n\
                    De vragen testen in twee kmo's en in één afdeling van het ziekenhuis, en nagaan of de scan \
                    óók werkt voor ploegen die nooit samen aan tafel zitten.\n",
                maturity: "idea",
                results: None,
            },
        ],
        published: false,
        endorsements: &[],
        comments: &[(
            "sofie",
            "Twintig vragen is te veel voor een kmo. Ik heb er tien van gemaakt; kijk jij of de vragen over \
             feedback er nog in staan?",
            &[(
                "jonas",
                "Ze staan er nog in. De vragen over het opleidingsplan mogen weg: die zijn voor kleine bedrijven \
                 toch niet van toepassing.",
            )],
        )],
    },
];
