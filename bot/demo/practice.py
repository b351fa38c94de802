"""The demo practice as data: Glow Aesthetics Med Spa's locations, providers, staff, menu, patients and the
conversations they already had. Fictional: 555-01xx numbers, example.com addresses. bot/demo/seed.py lays it out in time.
"""

from __future__ import annotations

PRACTICE_SLUG = "glow-aesthetics"
"""The demo practice's slug; its presence means the demo is already seeded."""

DEMO_PASSWORD = "glow-demo-2026"
"""Every demo staff user's password (printed in the demo banner)."""

MANAGER_EMAIL = "dana.whitfield@glowaesthetics.example"
"""The manager's sign-in, printed in the demo banner."""

ADMIN_EMAIL = "jordan.ellis@glowaesthetics.example"
"""The admin's sign-in (Users page, erasure, unrouted texts), printed in the demo banner."""

MIAMI_DESK_EMAIL = "rosa.alvarez@glowaesthetics.example"
"""The Miami front desk's sign-in, limited to Miami (sees only Miami's patients), printed in the demo banner."""

DIRECTOR_EMAIL = "olivia.lee@glowaesthetics.example"
"""The medical director's sign-in: she signed off the shipped aftercare texts three weeks before the demo's now."""

CHECKER_PHONE = "+15125550143"
"""A patient the outside webhook checker texts from (Ana Ruiz, Austin)."""

AUSTIN = {
    "external_id": "L-AUS",
    "name": "Austin - South Congress",
    "timezone": "America/Chicago",
    "sms_number": "+15125550100",
    "phone": "+15125550100",
    "state": "TX",
    "address": "1600 S Congress Ave, Suite 210, Austin, TX 78704",
}
MIAMI = {
    "external_id": "L-MIA",
    "name": "Miami - Brickell",
    "timezone": "America/New_York",
    "sms_number": "+13055550100",
    "phone": "+13055550100",
    "state": "FL",
    "address": "1200 Brickell Ave, Suite 500, Miami, FL 33131",
    "emergency_line": "+13055550199",
    "review_url": "https://g.page/r/glow-aesthetics-miami/review",
}

FACTS = {
    "sender_name": "Carla",
    "hours": {
        "en": "Tue-Fri 9am-7pm, Sat 9am-4pm; closed Sun and Mon",
        "es": "martes a viernes de 9 a 19 h y sábado de 9 a 16 h; domingo y lunes cerrado",
    },
    "address": {"L-AUS": AUSTIN["address"], "L-MIA": MIAMI["address"]},
    "parking": {
        "L-AUS": "Free garage parking behind the building (level 2), validated at the front desk.",
        "L-MIA": "Valet at the Brickell Ave entrance; we validate 2 hours.",
    },
    "cancellation_policy": "Please give us 24 hours' notice to reschedule or cancel; late cancellations "
    "and no-shows are charged $50.",
    "payment": "All major cards, HSA/FSA cards for eligible treatments, Cherry financing on $300+.",
    "membership": "Glow Club: $99/month, one HydraFacial or peel each month and 10% off injectables.",
    "consultations": "Consultations are free and take about 30 minutes.",
    "aftercare_sheets": "https://glowaesthetics.example/aftercare",
    "booking_url": "https://glowaesthetics.example/book",
}

LOCATIONS = (AUSTIN, MIAMI)

WEEKDAYS = {
    "tue": ["09:00", "19:00"],
    "wed": ["09:00", "19:00"],
    "thu": ["09:00", "19:00"],
    "fri": ["09:00", "19:00"],
    "sat": ["09:00", "16:00"],
}

# external_id, name, title, location, working hours, the categories they perform
PROVIDERS = (
    (
        "P-LEE",
        "Dr. Olivia Lee",
        "MD, Medical Director",
        "L-AUS",
        {"tue": ["10:00", "18:00"], "thu": ["10:00", "18:00"], "sat": ["09:00", "14:00"]},
        ("neuromodulator", "filler", "prp", "laser_resurfacing", "consultation"),
    ),
    (
        "P-REYES",
        "Sofia Reyes",
        "NP-C, Nurse Injector",
        "L-AUS",
        WEEKDAYS,
        ("neuromodulator", "filler", "prp", "microneedling", "consultation"),
    ),
    (
        "P-PATEL",
        "Priya Patel",
        "Licensed Aesthetician",
        "L-AUS",
        {"tue": ["09:00", "17:00"], "wed": ["09:00", "17:00"], "fri": ["11:00", "19:00"], "sat": ["09:00", "16:00"]},
        ("facial", "peel", "microneedling", "consultation"),
    ),
    (
        "P-BROOKS",
        "Jordan Brooks",
        "Certified Laser Technician",
        "L-AUS",
        {"wed": ["10:00", "19:00"], "thu": ["10:00", "19:00"], "fri": ["09:00", "17:00"]},
        ("laser_resurfacing", "ipl", "laser_hair_removal", "body_contouring"),
    ),
    (
        "P-CHEN",
        "Marcus Chen",
        "PA-C, Injector",
        "L-MIA",
        WEEKDAYS,
        (
            "neuromodulator",
            "filler",
            "prp",
            "facial",
            "peel",
            "microneedling",
            "ipl",
            "laser_hair_removal",
            "body_contouring",
            "laser_resurfacing",
            "consultation",
        ),
    ),
)

# name, role, phone, email, on_call, backup
STAFF = (
    ("Sofia Reyes, NP", "injector", "+15125550181", "sofia.reyes@glowaesthetics.example", True, False),
    ("Hannah Kim, RN", "nurse", "+15125550182", "hannah.kim@glowaesthetics.example", False, True),
    ("Carla Mendoza", "front_desk", "+15125550183", "carla.mendoza@glowaesthetics.example", False, False),
    ("Dana Whitfield", "manager", "+15125550184", MANAGER_EMAIL, False, False),
    ("Marcus Chen, PA-C", "injector", "+13055550181", "marcus.chen@glowaesthetics.example", False, False),
    ("Jordan Ellis", "admin", "+15125550185", ADMIN_EMAIL, False, False),
    ("Rosa Alvarez", "front_desk", "+13055550183", MIAMI_DESK_EMAIL, False, False),
    ("Dr. Olivia Lee, MD", "injector", "+15125550186", DIRECTOR_EMAIL, False, False),  # the medical director
)

# code: (product, supplies) per visit, in dollars: what the demo's treatments cost the practice (toxin at
# about $4-6 a unit, a syringe of hyaluronic filler at $250-320, a CoolSculpt applicator cycle, a peel's
# solution); Operations ranks treatments by price minus these.
COSTS = {
    "BOTOX-FOREHEAD": ("96.00", "3.50"),
    "BOTOX-GLABELLA": ("100.00", "3.50"),
    "BOTOX-CROWS": ("96.00", "3.50"),
    "BOTOX-MASSETER": ("240.00", "4.00"),
    "DYSPORT-UPPER": ("210.00", "5.50"),
    "XEOMIN-GLABELLA": ("95.00", "3.50"),
    "FILLER-LIPS": ("285.00", "14.00"),
    "FILLER-CHEEKS": ("590.00", "22.00"),
    "FILLER-JAWLINE": ("620.00", "22.00"),
    "FILLER-UNDEREYE": ("300.00", "18.50"),
    "HYDRAFACIAL": ("42.00", "9.00"),
    "HYDRAFACIAL-DELUXE": ("68.00", "11.50"),
    "PEEL-VI": ("95.00", "6.00"),
    "PEEL-GLYCOLIC": ("18.00", "4.50"),
    "MICRONEEDLING": ("35.00", "28.00"),
    "MICRONEEDLING-PRP": ("60.00", "64.00"),
    "LASER-HALO": ("180.00", "25.00"),
    "LASER-CO2": ("260.00", "45.00"),
    "IPL-PHOTOFACIAL": ("30.00", "8.00"),
    "LHR-UNDERARM": ("6.00", "3.00"),
    "LHR-BIKINI": ("8.00", "3.50"),
    "LHR-LEGS": ("18.00", "5.00"),
    "COOLSCULPT-ABDOMEN": ("520.00", "15.00"),
    "COOLSCULPT-FLANKS": ("450.00", "15.00"),
    "PRP-HAIR": ("95.00", "38.00"),
    "PRP-UNDEREYE": ("85.00", "34.00"),
}

STAFF_LOCATIONS = {MIAMI_DESK_EMAIL: ("L-MIA",)}
"""Staff limited to some locations (by location external id); everyone else sees both."""

# code, name, Spanish name, category, minutes, price, area
SERVICES = (
    ("BOTOX-FOREHEAD", "Botox for forehead lines", "Botox en la frente", "neuromodulator", 30, 300, "forehead"),
    ("BOTOX-GLABELLA", "Botox for frown lines", "Botox en el entrecejo", "neuromodulator", 30, 280, "glabella"),
    ("BOTOX-CROWS", "Botox for crow's feet", "Botox en las patas de gallo", "neuromodulator", 30, 280, "crows_feet"),
    (
        "BOTOX-MASSETER",
        "Botox for jaw slimming",
        "Botox para afinar la mandíbula",
        "neuromodulator",
        30,
        550,
        "masseter",
    ),
    (
        "DYSPORT-UPPER",
        "Dysport, upper face",
        "Dysport en la frente y los ojos",
        "neuromodulator",
        45,
        650,
        "upper_face",
    ),
    ("XEOMIN-GLABELLA", "Xeomin for frown lines", "Xeomin en el entrecejo", "neuromodulator", 30, 300, "glabella"),
    ("FILLER-LIPS", "Lip filler", "relleno de labios", "filler", 45, 750, "lips"),
    ("FILLER-CHEEKS", "Cheek filler", "relleno de pómulos", "filler", 60, 1600, "cheeks"),
    ("FILLER-JAWLINE", "Jawline filler", "relleno de mandíbula", "filler", 60, 1500, "jawline"),
    ("FILLER-UNDEREYE", "Under-eye filler", "relleno de ojeras", "filler", 45, 850, "under_eyes"),
    ("HYDRAFACIAL", "HydraFacial", "facial HydraFacial", "facial", 60, 225, None),
    ("HYDRAFACIAL-DELUXE", "Deluxe HydraFacial", "facial HydraFacial Deluxe", "facial", 75, 299, None),
    ("PEEL-VI", "VI Peel", "peeling VI", "peel", 45, 350, None),
    ("PEEL-GLYCOLIC", "Glycolic peel", "peeling de ácido glicólico", "peel", 30, 150, None),
    ("MICRONEEDLING", "Microneedling", "microneedling", "microneedling", 60, 350, None),
    ("MICRONEEDLING-PRP", "Microneedling with PRP", "microneedling con PRP", "microneedling", 90, 650, None),
    ("LASER-HALO", "Halo laser", "láser Halo", "laser_resurfacing", 90, 1500, "full_face"),
    ("LASER-CO2", "CO2 laser resurfacing", "láser CO2", "laser_resurfacing", 120, 2800, "full_face"),
    ("IPL-PHOTOFACIAL", "IPL photofacial", "fotofacial IPL", "ipl", 45, 400, "full_face"),
    (
        "LHR-UNDERARM",
        "Underarm laser hair removal",
        "depilación láser de axilas",
        "laser_hair_removal",
        20,
        150,
        "underarms",
    ),
    ("LHR-BIKINI", "Bikini laser hair removal", "depilación láser de bikini", "laser_hair_removal", 30, 200, "bikini"),
    (
        "LHR-LEGS",
        "Full-leg laser hair removal",
        "depilación láser de piernas completas",
        "laser_hair_removal",
        60,
        450,
        "legs",
    ),
    (
        "COOLSCULPT-ABDOMEN",
        "CoolSculpting, abdomen",
        "CoolSculpting en el abdomen",
        "body_contouring",
        90,
        1500,
        "abdomen",
    ),
    (
        "COOLSCULPT-FLANKS",
        "CoolSculpting, flanks",
        "CoolSculpting en los costados",
        "body_contouring",
        70,
        1200,
        "flanks",
    ),
    ("PRP-HAIR", "PRP hair restoration", "PRP para el cabello", "prp", 60, 750, "scalp"),
    ("PRP-UNDEREYE", "PRP under-eye treatment", "PRP para ojeras", "prp", 45, 600, "under_eyes"),
    ("CONSULT", "Consultation", "consulta", "consultation", 30, 0, None),
)

# What each kind of patient comes in for, and roughly how often (days between visits).
ROUTINES = {
    "tox": (("BOTOX-FOREHEAD", "BOTOX-GLABELLA", "BOTOX-CROWS", "DYSPORT-UPPER", "XEOMIN-GLABELLA"), 100),
    "tox_filler": (("BOTOX-GLABELLA", "FILLER-LIPS", "BOTOX-CROWS", "FILLER-CHEEKS"), 80),
    "filler": (("FILLER-LIPS", "FILLER-UNDEREYE", "FILLER-JAWLINE", "FILLER-CHEEKS"), 120),
    "facial": (("HYDRAFACIAL", "HYDRAFACIAL-DELUXE", "PEEL-GLYCOLIC", "HYDRAFACIAL"), 35),
    "skin": (("MICRONEEDLING", "PEEL-VI", "MICRONEEDLING-PRP", "IPL-PHOTOFACIAL"), 45),
    "laser": (("IPL-PHOTOFACIAL", "LASER-HALO", "IPL-PHOTOFACIAL"), 70),
    "lhr": (("LHR-UNDERARM", "LHR-BIKINI", "LHR-LEGS"), 42),
    "body": (("CONSULT", "COOLSCULPT-ABDOMEN", "COOLSCULPT-FLANKS"), 60),
    "prp": (("PRP-HAIR", "PRP-HAIR", "PRP-UNDEREYE"), 35),
    "jaw": (("BOTOX-MASSETER", "FILLER-JAWLINE"), 110),
}

# first, last, language, location, routine, visits, marketing consent, email
PATIENTS = (
    ("Ana", "Ruiz", "es", "L-AUS", "tox", 2, False, None),
    ("Emily", "Carter", "en", "L-AUS", "tox", 3, True, "emily.carter@example.com"),
    ("Jessica", "Nguyen", "en", "L-AUS", "tox_filler", 4, True, "jess.nguyen@example.com"),
    ("Lauren", "Mitchell", "en", "L-AUS", "filler", 2, True, None),
    ("Megan", "Brooks", "en", "L-AUS", "facial", 5, True, "megan.brooks@example.com"),
    ("Ashley", "Thompson", "en", "L-AUS", "lhr", 4, False, None),
    ("Rachel", "Kim", "en", "L-AUS", "skin", 3, True, "rachel.kim@example.com"),
    ("Olivia", "Hart", "en", "L-AUS", "tox", 2, True, None),
    ("Sarah", "Bennett", "en", "L-AUS", "laser", 3, True, "sbennett@example.com"),
    ("Hannah", "Foster", "en", "L-AUS", "facial", 4, False, None),
    ("Natalie", "Price", "en", "L-AUS", "tox_filler", 3, True, "natalie.price@example.com"),
    ("Brittany", "Cole", "en", "L-AUS", "body", 3, True, None),
    ("Kayla", "Jensen", "en", "L-AUS", "filler", 1, True, None),
    ("Amanda", "Reed", "en", "L-AUS", "prp", 3, False, "amanda.reed@example.com"),
    ("Michael", "Turner", "en", "L-AUS", "jaw", 2, True, None),
    ("David", "Walsh", "en", "L-AUS", "tox", 2, False, None),
    ("Chloe", "Sullivan", "en", "L-AUS", "skin", 2, True, "chloe.s@example.com"),
    ("Madison", "Hayes", "en", "L-AUS", "lhr", 3, True, None),
    ("Taylor", "Morgan", "en", "L-AUS", "facial", 3, True, None),
    ("Grace", "Patterson", "en", "L-AUS", "tox", 3, True, "grace.patterson@example.com"),
    ("Victoria", "Long", "en", "L-AUS", "laser", 2, False, None),
    ("Caroline", "Webb", "en", "L-AUS", "tox_filler", 2, True, None),
    ("Erin", "Doyle", "en", "L-AUS", "facial", 2, True, None),
    ("Valeria", "Gonzalez", "es", "L-AUS", "tox_filler", 3, True, "valeria.g@example.com"),
    ("Camila", "Hernandez", "es", "L-AUS", "facial", 4, True, None),
    ("Lucia", "Martinez", "es", "L-AUS", "filler", 2, False, None),
    ("Mariana", "Lopez", "es", "L-AUS", "lhr", 4, True, None),
    ("Daniela", "Ramirez", "es", "L-AUS", "skin", 3, True, "daniela.ramirez@example.com"),
    ("Gabriela", "Torres", "es", "L-AUS", "tox", 2, True, None),
    ("Isabel", "Flores", "es", "L-AUS", "body", 2, False, None),
    ("Sofia", "Castillo", "es", "L-AUS", "prp", 2, True, None),
    ("Alejandro", "Vargas", "es", "L-AUS", "jaw", 1, True, None),
    ("Paula", "Jimenez", "es", "L-AUS", "laser", 2, True, None),
    ("Jennifer", "Blake", "en", "L-AUS", "tox", 1, True, None),
    ("Stephanie", "Ward", "en", "L-AUS", "filler", 2, True, "stephanie.ward@example.com"),
    ("Nicole", "Alvarez", "en", "L-MIA", "tox_filler", 3, True, "nicole.alvarez@example.com"),
    ("Brianna", "Stone", "en", "L-MIA", "facial", 3, True, None),
    ("Samantha", "Greene", "en", "L-MIA", "laser", 2, True, None),
    ("Alexis", "Parker", "en", "L-MIA", "body", 2, False, None),
    ("Morgan", "Ellis", "en", "L-MIA", "tox", 2, True, None),
    ("Christina", "Wolfe", "en", "L-MIA", "skin", 2, True, "c.wolfe@example.com"),
    ("Rebecca", "Lane", "en", "L-MIA", "lhr", 3, False, None),
    ("Carolina", "Mendez", "es", "L-MIA", "tox_filler", 3, True, "carolina.mendez@example.com"),
    ("Fernanda", "Rojas", "es", "L-MIA", "facial", 4, True, None),
    ("Valentina", "Herrera", "es", "L-MIA", "filler", 2, True, None),
    ("Adriana", "Navarro", "es", "L-MIA", "tox", 3, True, None),
    ("Ximena", "Cruz", "es", "L-MIA", "skin", 2, False, None),
    ("Renata", "Silva", "es", "L-MIA", "lhr", 3, True, "renata.silva@example.com"),
    ("Javier", "Morales", "es", "L-MIA", "prp", 2, True, None),
    ("Patricia", "Ortiz", "es", "L-MIA", "laser", 1, True, None),
)

MARKETING_SOURCES = ("online booking form (checkbox)", "intake form, signed", "front desk tablet", "Glow Club sign-up")


HAPPY_REPLIES = {
    "en": (
        ("Doing great, thank you!", "So glad to hear it, {first}! We're here if anything comes up."),
        ("All good so far :)", "Great to hear, {first}. Just reply here if you have any questions."),
        (
            "A little tender but fine. Thanks for checking!",
            "Thanks, {first}! Tenderness usually fades in a day or two. Text us if anything changes.",
        ),
        ("Love it!! Thank you", "Yay, we love to hear that, {first}!"),
    ),
    "es": (
        ("Muy bien, gracias!", "¡Qué gusto, {first}! Aquí estamos si necesitas algo."),
        ("Todo bien por ahora, gracias", "Perfecto, {first}. Escríbenos si tienes alguna pregunta."),
        ("Me encanto el resultado!", "¡Nos alegra mucho, {first}!"),
    ),
}

OPTED_OUT = ("David", "Walsh")
"""The patient who texted STOP two months ago: he keeps his history and gets nothing more."""

# Conversations already had: (patient, their text, intent, urgency, the answer, days ago).
# An answer starting "staff:" was written by the nurse after a routine escalation.
CONVERSATIONS = (
    (
        "Emily",
        "All good, thank you!! Already seeing a difference",
        "positive_feedback",
        "none",
        "So glad to hear it, Emily! If you have a minute, a review helps us a lot: {review}",
        40,
    ),
    (
        "Camila",
        "Gracias! Me encanto el facial, mi piel se siente increible",
        "positive_feedback",
        "none",
        "¡Qué gusto, Camila! Gracias por escribirnos.",
        25,
    ),
    (
        "Jessica",
        "A little bruising on my upper lip, is that normal?",
        "side_effect_concern",
        "routine",
        "staff:Hi Jessica, this is Hannah, RN. Mild bruising for 3-7 days is normal after lip filler. Arnica and a "
        "cold compress help. If it gets darker, more painful or the skin turns pale or dusky, call us right away.",
        60,
    ),
    (
        "Lucia",
        "Ahorita no puedo, escribame despues de las fiestas",
        "defer",
        "none",
        "Claro, Lucía. Le escribimos más adelante. ¡Felices fiestas!",
        18,
    ),
    (
        "Megan",
        "Yes! Can I come in a Saturday morning?",
        "rebook_request",
        "none",
        "Great! Sat 10:00am or Sat 11:30am with Priya. Reply 1 or 2 and we'll book it.",
        9,
    ),
)
