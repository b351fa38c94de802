"""Who may do what: the one permission table, and the rule every route is checked against.

Staff roles (bot.vocabulary.Role) are jobs; each grants one access level
(bot.vocabulary.Access), and the table below says what each level may do. Every endpoint of the app has exactly one entry in ROUTES (or is
PUBLIC, or authenticates itself as a machine: signed webhooks, the bearer API);
`web.auth` checks it before any view runs, so a new route is refused until it
is given a rule here, and tests/test_permissions.py fails for it.
"""

from __future__ import annotations

from bot.vocabulary import Access, Role

FRONT_DESK, CLINICIAN, MANAGER, ADMIN = Access

ACCESS_OF_ROLE: dict[str, Access] = {
    Role.FRONT_DESK: FRONT_DESK,
    Role.INJECTOR: CLINICIAN,
    Role.NURSE: CLINICIAN,
    Role.MANAGER: MANAGER,
    Role.ADMIN: ADMIN,
}
"""The access level each staff role grants."""

EVERYONE = frozenset(Access)

PERMISSIONS: dict[str, frozenset[Access]] = {
    "view_inbox": EVERYONE,  # escalations and the latest texts in
    "handle_escalations": EVERYONE,  # acknowledge, resolve
    "read_transcripts": EVERYONE,  # a patient's texts and the bot's decisions (audited)
    "reply": EVERYONE,  # text a patient as staff
    "take_over": frozenset({CLINICIAN, MANAGER, ADMIN}),  # silence the bot for one patient
    "confirm_visits": frozenset({FRONT_DESK, MANAGER, ADMIN}),  # book or decline a time a patient picked
    "fix_numbers": frozenset({FRONT_DESK, MANAGER, ADMIN}),  # correct a flagged patient's phone number
    "view_numbers": frozenset({MANAGER, ADMIN}),
    "change_settings": frozenset({MANAGER, ADMIN}),
    "review_care_texts": frozenset({MANAGER, ADMIN}),  # read the aftercare texts and where each stands
    "sign_care_texts": frozenset(),  # the medical director alone (GRANTED_BY_FLAG), whatever the role
    "control_bot": frozenset({MANAGER, ADMIN}),  # the kill switch and the bot's autonomy per intent
    "export": frozenset({MANAGER, ADMIN}),
    "view_growth": EVERYONE,  # segments, the upsell matrix, ready this week, today's staff prompts
    "send_offers": EVERYONE,
    "record_sales": EVERYONE,  # a retail product sold at the desk, against the offer it answers  # one-click offer from ready this week (every sending rule still applies)
    "edit_matrix": frozenset({MANAGER, ADMIN}),  # save a new version of the upsell matrix
    "correct_decisions": frozenset({MANAGER, ADMIN}),  # mark a decision wrong and give the right intent, urgency
    "erase": frozenset({ADMIN}),
    "manage_users": frozenset({ADMIN}),  # add staff, change roles, deactivate, reset passwords (audited)
    "read_audit_log": frozenset({MANAGER, ADMIN}),  # who viewed, exported, erased or changed what
    "see_unrouted": frozenset({ADMIN}),  # texts from numbers that belong to no practice
    "change_own_password": EVERYONE,
    "demo_tools": EVERYONE,  # the simulator and the mail sink, mounted in demo mode only
}
"""The one written permission table: permission → the access levels that have it."""

GRANTED_BY_FLAG: dict[str, str] = {
    "review_care_texts": "medical_director",
    "sign_care_texts": "medical_director",
}
"""Permissions that a flag on the staff member grants as well, whatever their role: the practice's
medical director (`StaffUser.medical_director`) reads and signs off the aftercare texts. A flag, not a
role: the director is also a clinician, a manager or an admin by job, and keeps that role's access."""

PUBLIC = frozenset({"static", "health.healthz", "auth.login"})
"""Endpoints anyone may call."""

MACHINE = frozenset(
    {
        "sms.sms_inbound",  # X-Twilio-Signature
        "sms.sms_status",  # X-Twilio-Signature
        "api.post_appointment",  # HMAC of the body
        "api.find_patients",  # bearer AFTERCARE_API_TOKEN
        "api.timeline",
        "api.escalations",
        "api.visit_prompt",
        "bench.bare",  # `make bench` only: the signed webhook's reference points
        "bench.floor",
    }
)
"""Endpoints that authenticate their caller themselves (signatures, bearer token); no staff session."""

SIGNED_IN = frozenset({"auth.logout"})
"""Endpoints any signed-in staff member may call."""

ROUTES: dict[str, str] = {
    "dashboard.inbox": "view_inbox",
    "dashboard.acknowledge": "handle_escalations",
    "dashboard.resolve": "handle_escalations",
    "dashboard.patients": "read_transcripts",
    "dashboard.patient": "read_transcripts",
    "dashboard.reply": "reply",
    "dashboard.take_over": "take_over",
    "dashboard.release": "take_over",
    "dashboard.fix_phone": "fix_numbers",
    "dashboard.record_sale": "record_sales",
    "dashboard.settle_request": "confirm_visits",
    "dashboard.numbers": "view_numbers",
    "dashboard.report": "view_numbers",
    "dashboard.report_csv": "view_numbers",
    "dashboard.report_pdf": "view_numbers",
    "dashboard.operations": "view_numbers",
    "dashboard.corrections": "view_numbers",
    "dashboard.export_corrections": "export",
    "dashboard.correct_form": "correct_decisions",
    "dashboard.correct_decision": "correct_decisions",
    "dashboard.control": "control_bot",
    "dashboard.kill_switch": "control_bot",
    "dashboard.set_autonomy": "control_bot",
    "dashboard.settings_page": "change_settings",
    "dashboard.save_settings": "change_settings",
    "dashboard.practice_settings": "change_settings",
    "dashboard.save_practice_settings": "change_settings",
    "dashboard.save_location": "change_settings",
    "dashboard.on_call": "change_settings",
    "dashboard.add_on_call": "change_settings",
    "dashboard.remove_on_call": "change_settings",
    "dashboard.save_on_call_contact": "change_settings",
    "dashboard.plans_page": "change_settings",
    "dashboard.save_step_text": "change_settings",
    "dashboard.save_step_timing": "change_settings",
    "dashboard.treatments_page": "change_settings",
    "dashboard.save_treatment_costs": "change_settings",
    "dashboard.care_texts_page": "review_care_texts",
    "dashboard.save_care_text": "change_settings",
    "dashboard.sign_care_texts": "sign_care_texts",
    "dashboard.set_medical_director": "manage_users",
    "dashboard.escalations": "view_inbox",
    "dashboard.inbox_items": "view_inbox",
    "dashboard.approve_draft": "reply",
    "dashboard.discard_draft": "reply",
    "dashboard.matrix_page": "view_growth",
    "dashboard.save_matrix": "edit_matrix",
    "dashboard.segments_page": "view_growth",
    "dashboard.users": "manage_users",
    "dashboard.add_user": "manage_users",
    "dashboard.change_user_role": "manage_users",
    "dashboard.set_user_active": "manage_users",
    "dashboard.set_user_locations": "manage_users",
    "dashboard.reset_user_password": "manage_users",
    "dashboard.change_user_contact": "manage_users",
    "dashboard.audit_log": "read_audit_log",
    "dashboard.export_patient_data": "export",
    "dashboard.erase_patient_data": "erase",
    "dashboard.ready_page": "view_growth",
    "dashboard.send_offer": "send_offers",
    "dashboard.today_page": "view_growth",
    "dashboard.offer_results": "view_numbers",
    "auth.change_password": "change_own_password",
    "mail.index": "demo_tools",
    "mail.message": "demo_tools",
    "simulator.page": "demo_tools",
    "simulator.find_patients": "demo_tools",
    "simulator.thread": "demo_tools",
    "simulator.alerts": "demo_tools",
    "simulator.send": "demo_tools",
}
"""Every staff endpoint and the permission it needs."""


def access_of(role: str | None) -> Access | None:
    """The access level of a staff role (None for a role nobody granted anything)."""
    return ACCESS_OF_ROLE.get(role or "")


def may(role: str | None, permission: str) -> bool:
    """True when a staff member with this role has this permission (by role alone, no flag)."""
    return access_of(role) in PERMISSIONS[permission]


def staff_may(staff, permission: str) -> bool:
    """True when this staff member has this permission: by their role, or by a flag that grants it."""
    flag = GRANTED_BY_FLAG.get(permission)
    return may(staff.role, permission) or bool(flag and getattr(staff, flag, False))
