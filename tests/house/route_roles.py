"""The declared role table: every route of the app × every kind of caller, one line per route.

test_route_roles.py enumerates app.url_map and fails on any (method, endpoint) missing here, then sends each
line's request as each caller and checks the cell:

    Y  the caller gets through (any answer but 401, 403, 5xx or a redirect to a sign-in page);
    .  the caller is refused: 403 for a signed-in office account on a console route (never a redirect with a
       flash), a redirect to the sign-in page (/office/login) or an access-code page (/r/, /p/) for the
       others, 401 for the device API.

Callers (columns, in order): anonymous; rater (signed in through a personal link); informant and linkage
department (signed in through their own personal link /p/<token>: the participants' pages); unit liaison (of
the seeded objects' unit U01); viewer; operator; data administrator; admin; device (a rating device's Bearer
key on every request). A participant page refuses with a redirect to its access-code page (/p/), or 403 for a
participant of another kind.

URLs may name the seeded objects: {assignment} (an assignment of the rater), {case} (a bad-rating case of
U01), {rating}, {device} (a second device, not the caller's), {version} (a result version),
{response_version}; the supervision network's, all of U01: {problem} (a ledger problem pushed to U01, with a
rectification report), {step_file} (that report's evidence file), {point} (a check point), {point_file} (its
evidence file), {suggestion} (an informant's report, with a file). Requests that would change something
are sent so that they change nothing lasting (a bad target, an empty form, output=bogus): the point is who
gets through, not what the route does (its own tests do that).

Adding a route: add its line; RUN_LAST lists the lines that end the caller's session (sent after the others).
"""

COLUMNS = (
    "anonymous",
    "rater",
    "informant",
    "linkage",
    "liaison",
    "viewer",
    "operator",
    "data_admin",
    "admin",
    "device",
)

#: (cells, method, endpoint, url[, form or JSON body]); cells in the order of COLUMNS: a anonymous, r rater,
#: i informant, l linkage department, L unit liaison, v viewer, o operator, d data administrator, A admin,
#: D device.
ROUTES = [
    # a r i l L v o d A D    public pages and the device API
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "static", "/static/app.css"),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "web.home", "/"),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "web.enter_code", "/r/"),
    ("Y Y Y Y Y Y Y Y Y Y", "POST", "web.enter_code", "/r/", {"code": ""}),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "web.open_link", "/r/not-a-real-token-0000000000000"),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "api.health", "/api/v1/health"),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "api.ping", "/api/v1/ping"),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "api.openapi", "/api/v1/openapi.json"),
    (". . . . . . . . . Y", "POST", "api.post_ratings", "/api/v1/ratings", {"json": {}}),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "office.login", "/office/login"),
    ("Y Y Y Y Y Y Y Y Y Y", "POST", "office.login", "/office/login", {"username": "", "password": ""}),
    ("Y Y Y Y Y Y Y Y Y Y", "POST", "office.logout", "/office/logout"),
    # a r i l L v o d A D    the raters' pages
    (". Y . . . . . . . .", "GET", "web.rater_home", "/rater/"),
    (". Y . . . . . . . .", "GET", "web.matrix", "/rater/grassroots/q/1"),
    (". Y . . . . . . . .", "POST", "web.matrix", "/rater/grassroots/q/1"),
    (". Y . . . . . . . .", "GET", "web.unit_page", "/rater/unit/{assignment}"),
    (". Y . . . . . . . .", "POST", "web.unit_page", "/rater/unit/{assignment}"),
    (". Y . . . . . . . .", "GET", "web.submit_page", "/rater/grassroots/submit"),
    (". Y . . . . . . . .", "POST", "web.submit_page", "/rater/grassroots/submit"),
    (". Y . . . . . . . .", "POST", "web.save_answer", "/rater/answer", {"json": {}}),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "web.fresh_csrf", "/rater/csrf"),
    ("Y Y Y Y Y Y Y Y Y Y", "POST", "web.rater_exit", "/rater/exit"),
    # a r i l L v o d A D    the supervision network's participants (informants, linkage departments, experts)
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "web.participant_code", "/p/"),
    ("Y Y Y Y Y Y Y Y Y Y", "POST", "web.participant_code", "/p/", {"code": ""}),
    ("Y Y Y Y Y Y Y Y Y Y", "GET", "web.participant_link", "/p/not-a-real-token-0000000000000"),
    (". . Y Y . . . . . .", "GET", "web.participant_home", "/p/home"),
    (". . Y . . . . . . .", "POST", "web.participant_suggest", "/p/suggest", {"text": ""}),
    (". . . Y . . . . . .", "POST", "web.participant_report", "/p/report", {"unit_id": "", "title": ""}),
    (". . . . . . . . . .", "POST", "web.participant_comment", "/p/comment/{problem}", {"text": ""}),
    ("Y Y Y Y Y Y Y Y Y Y", "POST", "web.participant_exit", "/p/exit"),
    # a r i l L v o d A D    the console
    (". . . . Y Y Y Y Y .", "GET", "office.home", "/office/home"),
    (". . . . . Y Y Y Y .", "GET", "office.index", "/office/"),
    (". . . . . Y Y Y Y .", "GET", "office.units", "/office/units"),
    (". . . . . Y Y Y Y .", "GET", "office.raters", "/office/raters"),
    (". . . . . . Y Y Y .", "GET", "office.imports", "/office/imports"),
    (". . . . . . Y Y Y .", "POST", "office.imports", "/office/imports"),
    (". . . . . Y Y Y Y .", "GET", "office.import_template", "/office/imports/template/units.csv"),
    (". . . . . Y Y Y Y .", "GET", "office.import_guide", "/office/imports/guide/units.csv"),
    (". . . . . Y Y Y Y .", "GET", "office.import_reference", "/office/imports/reference/units.csv"),
    (". . . . . Y Y Y Y .", "GET", "office.surveys", "/office/surveys"),
    (". . . . . . Y Y Y .", "POST", "office.create_period", "/office/surveys/periods"),
    (". . . . . Y Y Y Y .", "GET", "office.survey_period", "/office/surveys/2026"),
    (". . . . . . Y Y Y .", "POST", "office.move_period", "/office/surveys/2026/move/nowhere"),
    (". . . . . . Y Y Y .", "POST", "office.survey_rule", "/office/surveys/2026/rules/nowhere"),
    (". . . . . . Y Y Y .", "POST", "office.survey_assign", "/office/surveys/2026/assign"),
    (". . . . . Y Y Y Y .", "GET", "office.survey_progress", "/office/surveys/2026/progress"),
    (". . . . . . Y Y Y .", "GET", "office.survey_reminders", "/office/surveys/2026/reminders.csv"),
    (". . . . . Y Y Y Y .", "GET", "office.survey_invitations", "/office/surveys/2026/invitations"),
    (
        ". . . . . . Y Y Y .",
        "POST",
        "office.issue_invitations",
        "/office/surveys/2026/invitations",
        {"output": "bogus"},
    ),
    (". . . . . . Y Y Y .", "POST", "office.revoke_invitations", "/office/surveys/2026/invitations/revoke"),
    (". . . . . . . Y . .", "GET", "office.survey_responses", "/office/surveys/2026/responses"),
    (". . . . . . . Y . .", "GET", "office.response_detail", "/office/surveys/responses/{assignment}"),
    (". . . . . . . Y . .", "POST", "office.response_return", "/office/surveys/responses/{assignment}/return"),
    (
        ". . . . . . . Y . .",
        "POST",
        "office.response_validity",
        "/office/surveys/responses/{assignment}/versions/{response_version}/validity",
    ),
    (". . . . . . . Y . .", "POST", "office.response_correction", "/office/surveys/responses/{assignment}/correction"),
    (". . . . . Y Y Y Y .", "GET", "office.results", "/office/periods/2026/results"),
    (". . . . . Y Y Y Y .", "GET", "office.results_export", "/office/periods/2026/results.csv"),
    (". . . . . Y Y Y Y .", "GET", "office.result_unit", "/office/periods/2026/results/{version}/units/U01"),
    (". . . . . Y Y Y Y .", "GET", "office.result_unit_pdf", "/office/periods/2026/results/{version}/units/U01.pdf"),
    (". . . . . Y Y Y Y .", "GET", "office.results_pdf", "/office/periods/2026/results.pdf"),
    (". . . . . Y Y Y Y .", "GET", "office.results_units_zip", "/office/periods/2026/results/units.zip"),
    (". . . . . Y Y Y Y .", "GET", "office.results_assessment", "/office/periods/2026/results/assessment.xlsx"),
    (". . . . . . Y Y Y .", "POST", "office.results_report_retry", "/office/periods/2026/results/{version}/report"),
    (". . . . . . Y Y Y .", "POST", "office.result_unit", "/office/periods/2026/results/{version}/units/U01"),
    (". . . . . Y Y Y Y .", "GET", "office.scheme", "/office/periods/2026/scheme"),
    (". . . . . . Y Y Y .", "POST", "office.scheme", "/office/periods/2026/scheme"),
    (". . . . . Y Y Y Y .", "GET", "office.scheme_yaml", "/office/periods/2026/scheme.yaml"),
    (". . . . . . Y Y Y .", "POST", "office.score", "/office/periods/2026/score"),
    (". . . . . . Y Y Y .", "POST", "office.publish", "/office/periods/2026/publish"),
    (". . . . . Y Y Y Y .", "GET", "office.ratings", "/office/ratings"),
    (". . . . . Y Y Y Y .", "GET", "office.flagged_ratings", "/office/ratings/flagged"),
    (". . . . . . Y Y Y .", "POST", "office.rating_exclusion", "/office/ratings/{rating}/exclusion"),
    (". . . . . Y Y Y Y .", "GET", "office.devices", "/office/devices"),
    (". . . . . . Y Y Y .", "POST", "office.register_device", "/office/devices"),
    (". . . . . . Y Y Y .", "POST", "office.rotate_device_key", "/office/devices/{device}/rotate"),
    (". . . . . . Y Y Y .", "POST", "office.set_device_enabled", "/office/devices/{device}/enabled", {"enabled": "1"}),
    (". . . . Y Y Y Y Y .", "GET", "office.cases", "/office/cases"),
    (". . . . Y Y Y Y Y .", "GET", "office.case_detail", "/office/cases/{case}"),
    (". . . . Y . Y Y Y .", "POST", "office.case_step", "/office/cases/{case}/nowhere"),
    (". . . . . Y Y Y Y .", "GET", "office.calendar", "/office/calendar"),
    (". . . . . . Y Y Y .", "POST", "office.calendar_day", "/office/calendar/day"),
    (". . . . . . Y Y Y .", "POST", "office.calendar_setting", "/office/calendar/setting"),
    (". . . . . . Y Y Y .", "POST", "office.calendar_defaults", "/office/calendar/defaults"),
    # a r i l L v o d A D    the unit liaison's own unit (admins do not pass: they have no unit)
    (". . . . Y . . . . .", "GET", "office.liaison_home", "/office/unit"),
    (". . . . Y . . . . .", "GET", "office.liaison_result", "/office/unit/result"),
    (". . . . Y . . . . .", "GET", "office.liaison_report", "/office/unit/report.pdf"),
    # a r i l L v o d A D    check points (a liaison: its own unit's, files and reports them)
    (". . . . Y Y Y Y Y .", "GET", "office.checkpoints", "/office/checkpoints"),
    (". . . . Y . Y Y Y .", "GET", "office.checkpoint_new", "/office/checkpoints/new"),
    (". . . . Y . Y Y Y .", "POST", "office.checkpoint_new", "/office/checkpoints/new", {"item": ""}),
    (". . . . Y Y Y Y Y .", "GET", "office.checkpoint_detail", "/office/checkpoints/{point}"),
    (
        ". . . . Y . Y Y Y .",
        "POST",
        "office.checkpoint_report",
        "/office/checkpoints/{point}/report",
        {"outcome": "bogus"},
    ),
    (". . . . Y . Y Y Y .", "POST", "office.checkpoint_evidence", "/office/checkpoints/{point}/evidence"),
    (". . . . . . Y Y Y .", "POST", "office.checkpoint_waive", "/office/checkpoints/{point}/waive", {"reason": ""}),
    (". . . . Y Y Y Y Y .", "GET", "office.checkpoint_file", "/office/checkpoints/files/{point_file}"),
    # a r i l L v o d A D    the problem ledger (a liaison: the rectification report on its unit's problems)
    (". . . . . Y Y Y Y .", "GET", "office.ledger_list", "/office/ledger"),
    (". . . . . Y Y Y Y .", "GET", "office.ledger_csv", "/office/ledger.csv"),
    (". . . . . . Y Y Y .", "GET", "office.ledger_new", "/office/ledger/new"),
    (". . . . . . Y Y Y .", "POST", "office.ledger_new", "/office/ledger/new", {"unit_id": "", "title": ""}),
    (". . . . . Y Y Y Y .", "GET", "office.ledger_problem", "/office/ledger/{problem}"),
    (". . . . . . Y Y Y .", "POST", "office.ledger_action", "/office/ledger/{problem}/nowhere"),
    (". . . . . Y Y Y Y .", "GET", "office.ledger_sheet", "/office/ledger/{problem}/sheet.pdf"),
    (". . . . Y Y Y Y Y .", "GET", "office.ledger_file", "/office/ledger/file/{step_file}"),
    (". . . . Y . Y Y Y .", "GET", "office.ledger_unit_report", "/office/ledger/unit/{problem}/report"),
    (". . . . Y . Y Y Y .", "POST", "office.ledger_unit_report", "/office/ledger/unit/{problem}/report", {"note": ""}),
    # a r i l L v o d A D    the supervision network, seen from the office
    (". . . . . Y Y Y Y .", "GET", "office.network_suggestions", "/office/network"),
    (
        ". . . . . . Y Y Y .",
        "POST",
        "office.network_screen",
        "/office/network/suggestions/{suggestion}/screen",
        {"verdict": "bogus"},
    ),
    (
        ". . . . . . Y Y Y .",
        "POST",
        "office.network_to_problem",
        "/office/network/suggestions/{suggestion}/problem",
        {"unit_id": "", "title": ""},
    ),
    (". . . . . Y Y Y Y .", "GET", "office.network_file", "/office/network/suggestions/file/{suggestion}"),
    (". . . . . Y Y Y Y .", "GET", "office.network_people", "/office/network/people"),
    (". . . . . . Y Y Y .", "POST", "office.network_issue_links", "/office/network/people/links", {"kind": "bogus"}),
    (". . . . . . Y Y Y .", "POST", "office.network_linkage_import", "/office/network/linkage/import"),
    # a r i l L v o d A D    establishment figures and the vacancy pool
    (". . . . . Y Y Y Y .", "GET", "office.establishment", "/office/establishment"),
    (". . . . . Y Y Y Y .", "GET", "office.establishment_unit", "/office/establishment/units/U01"),
    (
        ". . . . . . Y Y Y .",
        "POST",
        "office.establishment_unit",
        "/office/establishment/units/U01",
        {"note": "x" * 10000},
    ),
    (". . . . . Y Y Y Y .", "GET", "office.vacancy_pool", "/office/establishment/pool"),
    (
        ". . . . . . Y Y Y .",
        "POST",
        "office.vacancy_confirm",
        "/office/establishment/pool/confirm",
        {"period": "2026", "unit": "nowhere"},
    ),
    (
        ". . . . . . Y Y Y .",
        "POST",
        "office.vacancy_allocate",
        "/office/establishment/pool/allocate",
        {"unit": "nowhere"},
    ),
    # a r i l L v o d A D    the audit log and accounts
    (". . . . . . . Y Y .", "GET", "office.audit_log", "/office/audit"),
    (". . . . . . . Y Y .", "GET", "office.audit_export", "/office/audit.csv"),
    (". . . . . . . . Y .", "GET", "office.users", "/office/users"),
    (". . . . . . . . Y .", "POST", "office.unlock_user", "/office/users/nobody/unlock"),
]

#: Lines that end or change the caller's session: sent after all the others, in this order.
RUN_LAST = (
    "web.open_link",
    "web.rater_exit",
    "web.participant_link",
    "web.participant_exit",
    "office.logout",
)
#: Sign-out lines: their normal answer is a redirect to the sign-in page, so only 401/403 count as refusals.
SIGN_OUTS = ("web.rater_exit", "web.participant_exit", "office.logout")
