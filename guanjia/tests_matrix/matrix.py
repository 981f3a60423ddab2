"""The permission matrix (权限矩阵): every page and API endpoint × every role, and what each gets.

One row per URL name and method. A row names who gets what; everyone it does not name gets its
`default`, and the anonymous visitor gets the login page (pages) or 401/403 (API) unless the row
says otherwise. Read a row as a sentence:

    R("enterprises:detail", GET, "enterprise", default=FORBIDDEN,
      ok=[ENT, STEWARD, DISP, SUP, LEADER, PROMOTER], not_found=[ENT_X, STEWARD_X, DISP_X])

"the enterprise page of ent_a1: the enterprise's user, its steward and the zone's staff see it;
the user of another enterprise, another zone's steward and dispatcher get 404 (out of scope, by
design: docs/security.md "Scope"); every other role 403; the anonymous visitor the login page."

The actors are in world.py: the cast of guanjia/testing.py plus the people it lacks. "~" marks a
variant: `handler~other_department` is a handler of a department the appeal was never given to.
All objects are in zone A, for ent_a1 (steward_a), routed to 高新区市场监管局.

Outcomes:
  OK         2xx, or 3xx not to the login page, with no error message on a page
  LOGIN      302 to the login page (pages, anonymous)
  UNAUTH     401 or 403 (API, anonymous)
  FORBIDDEN  403
  NOT_FOUND  404 (out of the user's scope)
  NO_METHOD  405
  REFUSED    the appeal page's way of saying no: back to the page with the service's refusal as an
             error message, nothing changed (pages.appeal_act: the lifecycle service decides)
  INVALID    allowed-but-invalid: past the permission check, refused by the input's validation
             (200 with a form error, 400, or 3xx with an error message); used only where noted
  BAD_INPUT  400 (API: an object named in the body that the caller cannot see "does not exist")

`xfail` marks an actor whose actual answer differs from the intended one where the fix belongs
to guanjia/core (reported to the lead, not fixed here); the row holds the intended answer.

To add a URL: add its row(s) here (a target in world.url_kwargs and a body in world.body if it
needs them). test_every_url_has_a_row fails until you do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

GET, POST, PUT, PATCH, DELETE = "GET", "POST", "PUT", "PATCH", "DELETE"

OK = "ok"
LOGIN = "login"
UNAUTH = "unauth"
FORBIDDEN = "403"
NOT_FOUND = "404"
NO_METHOD = "405"
REFUSED = "refused"
INVALID = "invalid"
BAD_INPUT = "400"

# --- the actors -------------------------------------------------------------------------------
ANON = "anon"
NOROLE = "norole"
ENT = "enterprise_user"
ENT_X = "enterprise_user~other_enterprise"
STEWARD = "steward"
STEWARD_X = "steward~other_zone"
DISP = "dispatcher"
DISP_X = "dispatcher~other_zone"
HANDLER = "handler"
HANDLER_X = "handler~other_department"
HANDLER_Z = "handler~other_zone"
CO = "handler~co_department"
HEAD = "department_head"
HEAD_X = "department_head~other_department"
SUP = "supervisor"
LEADER = "leader"
PROMOTER = "promoter"
CADRE = "seconded_cadre"
SYS = "sysadmin"
SEC = "secadmin"
AUD = "auditor"

ACTORS = (
    ANON, NOROLE, ENT, ENT_X, STEWARD, STEWARD_X, DISP, DISP_X, HANDLER, HANDLER_X, HANDLER_Z, CO,
    HEAD, HEAD_X, SUP, LEADER, PROMOTER, CADRE, SYS, SEC, AUD,
)  # fmt: skip
LOGGED_IN = tuple(a for a in ACTORS if a != ANON)

# Who sees an appeal of ent_a1 in zone A (Appeal.objects.visible_to), by how far it has come:
# before dispatch, the enterprise, its steward and the zone's staff; from dispatch on, also the
# departments it was given (the lead, and co-departments where there are some).
SEES_NEW = (ENT, STEWARD, DISP, SUP, LEADER)
SEES_GIVEN = (*SEES_NEW, HANDLER, HEAD)
SEES_CO_HANDLED = (*SEES_GIVEN, CO)
DEPARTMENT = (HANDLER, HEAD)
ZONE_WIDE = (DISP, DISP_X, SUP, LEADER, PROMOTER)  # core.roles.ZONE_WIDE_ROLES, both zones
ALL_HANDLERS = (HANDLER, HANDLER_X, HANDLER_Z, CO, HEAD, HEAD_X)
KPI_READERS = (DISP, DISP_X, SUP, LEADER, HEAD, HEAD_X)  # appeals.api.KPI_READERS
COCKPIT_READERS = (SUP, LEADER)  # cockpit.figures.COCKPIT_ROLES
# appeals.api.StaffOrSysadmin: every business role but the enterprise user, and the system admin.
CONFIG_READERS = tuple(a for a in LOGGED_IN if a not in (NOROLE, ENT, ENT_X, SEC, AUD))
# Who reads campaigns (campaigns.services.may_view): the zone's overseers and the stewards.
CAMPAIGN_READERS = (STEWARD, STEWARD_X, DISP, DISP_X, SUP, LEADER)
# A briefing's page downloads and its API reads: zone A's briefing, and zone B's (404 for zone A).
BRIEFING_READS = (
    "cockpit:briefing-pdf",
    "cockpit:briefing-xlsx",
    "briefing-detail",
    "briefing-pdf",
    "briefing-xlsx",
)
# Who is sent to a URL whose answer is the same for everyone (Row.sample).
PUBLIC_SAMPLE = (ANON, NOROLE, ENT, SYS)


@dataclass(frozen=True)
class Row:
    name: str  # the URL name, namespaced ("appeals:detail"); an admin family: "admin:*_changelist"
    method: str
    expect: Mapping[str, str]  # every actor's expected outcome
    target: str = ""  # what fills the URL's arguments (world.url_kwargs)
    body: str = ""  # what a POST/PUT/PATCH sends (world.body)
    variant: str = ""  # appeals:act's action slug
    xfail: Mapping[str, str] = field(default_factory=dict)  # actor → why (a core bug for the lead)
    note: str = ""
    # The actors actually sent, where the answer cannot depend on who asks (the API's schema, whose
    # every request costs seconds): None is all of them.
    sample: tuple[str, ...] | None = None

    @property
    def is_api(self) -> bool:
        return not (":" in self.name or self.name in PAGE_NAMES)

    @property
    def key(self) -> str:
        state = f"[{self.target.split(':', 1)[1]}]" if self.target.startswith("appeal:") else ""
        return f"{self.name}{'/' + self.variant if self.variant else ''}{state} {self.method}"


# Top-level page names without a namespace (everything else without one is the API's).
PAGE_NAMES = frozenset(
    {
        "login",
        "login-totp",
        "logout",
        "home",
        "healthz",
        "account-password",
        "account-totp",
        "api-schema",
        "api-docs",
        "api-redoc",
    }
)


def R(
    name: str,
    method: str = GET,
    target: str = "",
    *,
    default: str,
    anon: str | None = None,
    body: str = "",
    variant: str = "",
    xfail: Mapping[str, str] | None = None,
    note: str = "",
    sample: tuple[str, ...] | None = None,
    ok: Iterable[str] = (),
    login: Iterable[str] = (),
    forbidden: Iterable[str] = (),
    not_found: Iterable[str] = (),
    refused: Iterable[str] = (),
    invalid: Iterable[str] = (),
    bad_input: Iterable[str] = (),
) -> Row:
    """One row: the named actors get the named outcomes, the others `default` (anonymous: `anon`)."""
    expect = dict.fromkeys(LOGGED_IN, default)
    for outcome, actors in (
        (OK, ok),
        (LOGIN, login),
        (FORBIDDEN, forbidden),
        (NOT_FOUND, not_found),
        (REFUSED, refused),
        (INVALID, invalid),
        (BAD_INPUT, bad_input),
    ):
        for actor in actors:
            assert actor in expect, f"{name}: unknown actor {actor}"
            expect[actor] = outcome
    row = Row(name, method, expect, target, body, variant, dict(xfail or {}), note, sample)
    if anon is None:
        anon = UNAUTH if row.is_api else LOGIN
    expect[ANON] = anon
    return row


def post_only(name: str, target: str = "") -> Row:
    """The GET row of a POST-only URL: 405 for everyone (require_POST comes before the login check)."""
    return R(name, GET, target, default=NO_METHOD, anon=NO_METHOD)


def act(action: str, state: str, *, ok: Iterable[str], sees: Iterable[str]) -> Row:
    """A transition from the appeal page: who may, who sees the appeal but is refused, the rest 404."""
    allowed = tuple(ok)
    return R(
        "appeals:act",
        POST,
        f"appeal:{state}",
        variant=action,
        body=f"act:{action}",
        default=NOT_FOUND,
        ok=allowed,
        refused=[a for a in sees if a not in allowed],
    )


def api_step(name: str, state: str, *, ok: Iterable[str], sees: Iterable[str], target: str = "") -> Row:
    """A transition or step of the appeal API: who may, who sees it but gets 403, the rest 404."""
    allowed = tuple(ok)
    return R(
        f"appeal-{name.replace('_', '-')}",
        POST,
        target or f"appeal:{state}",
        body=f"api:{name}",
        default=NOT_FOUND,
        ok=allowed,
        forbidden=[a for a in sees if a not in allowed],
    )


MATRIX: list[Row] = [
    # --- the platform's own pages ----------------------------------------------------------------
    R("login", GET, default=OK, anon=OK, note="a logged-in user is sent home"),
    R("login", POST, body="login", default=OK, anon=OK),
    R("logout", GET, default=NO_METHOD, anon=NO_METHOD),
    R("logout", POST, default=LOGIN, anon=LOGIN, note="logged out, everyone lands on the login page"),
    R("home", GET, default=OK),
    # the login's second step: without a password step pending, back to the login page
    R("login-totp", GET, default=LOGIN, anon=LOGIN),
    R("login-totp", POST, body="totp_code", default=LOGIN, anon=LOGIN),
    # one's own account: every logged-in user; two-step verification is for staff accounts only
    R("account-password", GET, default=OK),
    R("account-password", POST, body="password_change", default=OK),
    R("account-totp", GET, default=OK, forbidden=[ENT, ENT_X], note="enterprise accounts use no TOTP"),
    R(
        "account-totp",
        POST,
        body="totp_code",
        default=INVALID,
        forbidden=[ENT, ENT_X],
        note="allowed-but-invalid: no authenticator is bound, so any code is wrong",
    ),
    R("healthz", GET, default=OK, anon=OK),
    # --- system/ (guanjia/core): 三员分立 --------------------------------------------------------
    R("core:units", GET, default=FORBIDDEN, ok=[SYS]),
    R("core:units", POST, body="unit", default=FORBIDDEN, ok=[SYS]),
    R("core:unit-edit", GET, "unit", default=FORBIDDEN, ok=[SYS]),
    R("core:unit-edit", POST, "unit", body="unit_edit", default=FORBIDDEN, ok=[SYS]),
    R("core:users", GET, default=FORBIDDEN, ok=[SYS]),
    R("core:users", POST, body="user_create", default=FORBIDDEN, ok=[SYS]),
    post_only("core:user-active", "user"),
    R("core:user-active", POST, "user", body="user_active", default=FORBIDDEN, ok=[SYS]),
    R("core:roles", GET, default=FORBIDDEN, ok=[SEC]),
    R("core:roles", POST, body="role_grant", default=FORBIDDEN, ok=[SEC]),
    post_only("core:role-revoke", "grantee"),
    R("core:role-revoke", POST, "grantee", body="role_revoke", default=FORBIDDEN, ok=[SEC]),
    post_only("core:user-unlock", "user"),
    R("core:user-unlock", POST, "user", default=FORBIDDEN, ok=[SEC]),
    R("core:security", GET, default=FORBIDDEN, ok=[SEC]),
    R("core:security", POST, body="security_policy", default=FORBIDDEN, ok=[SEC]),
    post_only("core:totp-reset", "user"),
    R(
        "core:totp-reset",
        POST,
        "user",
        default=FORBIDDEN,
        invalid=[SEC],
        note="allowed-but-invalid: the account has no authenticator to reset",
    ),
    R("core:audit", GET, default=FORBIDDEN, ok=[AUD]),
    R("core:audit-export", GET, default=FORBIDDEN, ok=[AUD]),
    R("core:calendar", GET, default=FORBIDDEN, ok=[SYS]),
    R("core:calendar", POST, body="calendar_day", default=FORBIDDEN, ok=[SYS]),
    post_only("core:calendar-day-remove"),
    R("core:calendar-day-remove", POST, body="calendar_remove", default=FORBIDDEN, ok=[SYS]),
    post_only("core:calendar-year-declare"),
    R("core:calendar-year-declare", POST, body="calendar_declare", default=FORBIDDEN, ok=[SYS]),
    R("core:robots", GET, default=FORBIDDEN, ok=[SYS]),
    R("core:robots", POST, body="robot", default=FORBIDDEN, ok=[SYS]),
    R("core:robot-edit", GET, "webhook", default=FORBIDDEN, ok=[SYS]),
    R("core:robot-edit", POST, "webhook", body="robot_edit", default=FORBIDDEN, ok=[SYS]),
    post_only("core:robot-active", "webhook"),
    R("core:robot-active", POST, "webhook", body="robot_active", default=FORBIDDEN, ok=[SYS]),
    post_only("core:robot-delete", "webhook"),
    R("core:robot-delete", POST, "webhook", default=FORBIDDEN, ok=[SYS]),
    post_only("core:robot-test", "webhook"),
    R("core:robot-test", POST, "webhook", default=FORBIDDEN, ok=[SYS]),
    # 站内消息: everyone's own inbox; another's message does not exist for them
    R("core:inbox", GET, default=OK),
    post_only("core:inbox-read", "notification"),
    R("core:inbox-read", POST, "notification", default=NOT_FOUND, ok=[DISP]),
    post_only("core:inbox-read-all"),
    R("core:inbox-read-all", POST, default=OK),
    # --- the enterprise registry, the steward's pages, the portal ----------------------------------
    R("enterprises:list", GET, default=FORBIDDEN, ok=ZONE_WIDE),
    R("enterprises:mine", GET, default=FORBIDDEN, ok=[STEWARD, STEWARD_X]),
    R("enterprises:create", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP]),
    R(
        "enterprises:create",
        POST,
        body="enterprise_create",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        invalid=[DISP_X],
        note="zone B's dispatcher may create, but not in zone A: the zone is not among its choices",
    ),
    R(
        "enterprises:detail",
        GET,
        "enterprise",
        default=FORBIDDEN,
        ok=[ENT, STEWARD, DISP, SUP, LEADER, PROMOTER],
        not_found=[ENT_X, STEWARD_X, DISP_X],
        note="the enterprise user is sent to its portal",
    ),
    R(
        "enterprises:edit",
        GET,
        "enterprise",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP],
        not_found=[STEWARD_X, DISP_X],
    ),
    R(
        "enterprises:edit",
        POST,
        "enterprise",
        body="enterprise_edit",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP],
        not_found=[STEWARD_X, DISP_X],
    ),
    post_only("enterprises:contact-add", "enterprise"),
    R(
        "enterprises:contact-add",
        POST,
        "enterprise",
        body="contact",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP],
        not_found=[STEWARD_X, DISP_X],
    ),
    post_only("enterprises:steward-assign", "enterprise"),
    R(
        "enterprises:steward-assign",
        POST,
        "enterprise",
        body="steward_assign",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        not_found=[DISP_X],
    ),
    R("enterprises:invite", GET, "enterprise", default=FORBIDDEN, ok=[STEWARD], not_found=[STEWARD_X]),
    R(
        "enterprises:invite",
        POST,
        "enterprise",
        body="invite",
        default=FORBIDDEN,
        ok=[STEWARD],
        not_found=[STEWARD_X],
    ),
    R("enterprises:export", GET, body="q:export", default=FORBIDDEN, ok=[*ZONE_WIDE, STEWARD, STEWARD_X]),
    R("enterprises:import", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP]),
    R(
        "enterprises:import",
        POST,
        body="import",
        default=FORBIDDEN,
        invalid=[DISP, DISP_X, SUP],
        note="allowed-but-invalid: no file (an upload starts the validation task)",
    ),
    R("enterprises:import-template", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP]),
    R("enterprises:import-job", GET, "import_job", default=FORBIDDEN, ok=[DISP, SUP], not_found=[DISP_X]),
    R(
        "enterprises:import-progress",
        GET,
        "import_job",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        not_found=[DISP_X],
    ),
    post_only("enterprises:import-confirm", "import_job"),
    R(
        "enterprises:import-confirm",
        POST,
        "import_job",
        default=FORBIDDEN,
        invalid=[DISP, SUP],
        not_found=[DISP_X],
        note="allowed-but-invalid: the job has errors; only its uploader may confirm a valid one",
    ),
    R("enterprises:stewards", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP, LEADER]),
    post_only("enterprises:handover"),
    R(
        "enterprises:handover",
        POST,
        body="handover",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        invalid=[DISP_X],
        note="zone B's dispatcher cannot name zone A's stewards",
    ),
    R("enterprises:portal", GET, default=FORBIDDEN, ok=[ENT, ENT_X]),
    # an invitation link is for whoever holds it: no login
    R("enterprises:accept-invite", GET, "token", default=OK, anon=OK),
    R("enterprises:accept-invite", POST, "token", body="accept_invite", default=OK, anon=OK),
    # --- appeal configuration: kept by the system admin, read by the zone's staff ----------------
    R("appeals:categories", GET, default=FORBIDDEN, ok=[SYS, DISP, DISP_X, SUP, LEADER]),
    R(
        "appeals:categories",
        POST,
        body="category_new",
        default=FORBIDDEN,
        ok=[SYS],
    ),
    R("appeals:category-edit", GET, "category", default=FORBIDDEN, ok=[SYS, DISP, DISP_X, SUP, LEADER]),
    R("appeals:category-edit", POST, "category", body="category", default=FORBIDDEN, ok=[SYS]),
    post_only("appeals:route-set"),
    R("appeals:route-set", POST, body="route", default=FORBIDDEN, ok=[SYS]),
    post_only("appeals:route-remove", "route"),
    R("appeals:route-remove", POST, "route", default=FORBIDDEN, ok=[SYS]),
    # --- appeal lists ------------------------------------------------------------------------------
    R("appeals:list", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP, LEADER]),
    R("appeals:mine", GET, default=FORBIDDEN, ok=[ENT, ENT_X]),
    R("appeals:stewarded", GET, default=FORBIDDEN, ok=[STEWARD, STEWARD_X]),
    R("appeals:queue", GET, default=FORBIDDEN, ok=[DISP, DISP_X]),
    R("appeals:worklist", GET, default=FORBIDDEN, ok=ALL_HANDLERS),
    R("appeals:board", GET, default=FORBIDDEN, ok=[SUP, LEADER]),
    R("cockpit:index", GET, default=FORBIDDEN, ok=COCKPIT_READERS),
    R("cockpit:drill", GET, body="q:cockpit_drill", default=FORBIDDEN, ok=COCKPIT_READERS),
    R("cockpit:rankings", GET, default=FORBIDDEN, ok=COCKPIT_READERS),
    R("appeals:approvals", GET, default=FORBIDDEN, ok=[SUP, LEADER]),
    # --- submitting: the channel follows the role (portal, steward, phone/12345) ------------------
    R(
        "appeals:submit",
        GET,
        "submit_enterprise",
        default=NOT_FOUND,
        ok=[ENT, STEWARD, DISP],
        forbidden=[SUP, LEADER, PROMOTER],
        note="sees the enterprise but has no channel: 403; does not see it: 404",
    ),
    R(
        "appeals:submit",
        POST,
        "submit_enterprise",
        body="submit",
        default=NOT_FOUND,
        ok=[ENT, STEWARD, DISP],
        forbidden=[SUP, LEADER, PROMOTER],
    ),
    # --- one appeal ---------------------------------------------------------------------------------
    R("appeals:detail", GET, "appeal:signed", default=NOT_FOUND, ok=SEES_CO_HANDLED),
    R("appeals:detail", GET, "appeal:submitted", default=NOT_FOUND, ok=SEES_NEW),
    R("appeals:act", GET, "appeal:signed", variant="sign", default=NO_METHOD, anon=NO_METHOD),
    act("dispatch", "submitted", ok=[DISP], sees=SEES_NEW),
    act("decline", "submitted", ok=[DISP], sees=SEES_NEW),
    act("merge", "submitted", ok=[DISP], sees=SEES_NEW),
    act("sign", "dispatched", ok=DEPARTMENT, sees=SEES_GIVEN),
    act("return", "dispatched", ok=DEPARTMENT, sees=SEES_GIVEN),
    act("answer", "signed", ok=DEPARTMENT, sees=SEES_CO_HANDLED),
    act("approve_answer", "drafted", ok=[HEAD], sees=SEES_GIVEN),
    act("reject_answer", "drafted", ok=[HEAD], sees=SEES_GIVEN),
    act("opinion", "signed", ok=[CO], sees=SEES_CO_HANDLED),
    act("pause", "signed", ok=DEPARTMENT, sees=SEES_CO_HANDLED),
    act("extend", "signed", ok=DEPARTMENT, sees=SEES_CO_HANDLED),
    act("resume", "waiting", ok=[ENT, STEWARD, *DEPARTMENT], sees=SEES_GIVEN),
    act("coordinate", "coordinate", ok=[LEADER], sees=SEES_GIVEN),
    act("rate", "answered", ok=[ENT], sees=SEES_GIVEN),
    act("rate_on_behalf", "answered", ok=[STEWARD, DISP], sees=SEES_GIVEN),
    act("escalate", "signed", ok=[SUP], sees=SEES_CO_HANDLED),
    post_only("appeals:attach", "appeal:signed"),
    R(
        "appeals:attach",
        POST,
        "appeal:signed",
        body="attach",
        default=NOT_FOUND,
        ok=[ENT, STEWARD, DISP, *DEPARTMENT, CO],
        refused=[SUP, LEADER],
    ),
    R("appeals:attachment", GET, "attachment", default=NOT_FOUND, ok=SEES_CO_HANDLED),
    post_only("appeals:extension-decide", "extension"),
    R(
        "appeals:extension-decide",
        POST,
        "extension",
        body="extension_decide",
        default=NOT_FOUND,
        ok=[SUP],
        forbidden=[a for a in SEES_GIVEN if a != SUP],
    ),
    post_only("appeals:review-decide", "review"),
    R(
        "appeals:review-decide",
        POST,
        "review",
        body="review_decide",
        default=NOT_FOUND,
        ok=[SUP],
        forbidden=[a for a in SEES_NEW if a != SUP],
        note="a declined appeal was never given to a department",
    ),
    post_only("appeals:rating-dispute", "rating"),
    R(
        "appeals:rating-dispute",
        POST,
        "rating",
        body="rating_dispute",
        default=NOT_FOUND,
        ok=DEPARTMENT,
        forbidden=SEES_NEW,
    ),
    # --- the API: schema and docs -----------------------------------------------------------------
    R("api-root", GET, default=OK),
    R("api-schema", GET, default=OK, anon=OK, sample=PUBLIC_SAMPLE, note="describes the API, holds no data"),
    R("api-docs", GET, default=OK, anon=OK, sample=PUBLIC_SAMPLE),
    R("api-redoc", GET, default=OK, anon=OK, sample=PUBLIC_SAMPLE),
    # --- API: 部门群机器人 (system admin) ------------------------------------------------------------
    R("department-webhook-list", GET, default=FORBIDDEN, ok=[SYS]),
    R("department-webhook-list", POST, body="api:webhook", default=FORBIDDEN, ok=[SYS]),
    R("department-webhook-detail", GET, "webhook", default=FORBIDDEN, ok=[SYS]),
    R("department-webhook-detail", PUT, "webhook", body="api:webhook", default=FORBIDDEN, ok=[SYS]),
    R("department-webhook-detail", PATCH, "webhook", body="api:webhook_patch", default=FORBIDDEN, ok=[SYS]),
    R("department-webhook-detail", DELETE, "webhook", default=FORBIDDEN, ok=[SYS]),
    R("department-webhook-test", POST, "webhook", default=FORBIDDEN, ok=[SYS]),
    # --- API: enterprises and stewards --------------------------------------------------------------
    R(
        "enterprise-list",
        GET,
        default=FORBIDDEN,
        ok=[ENT, ENT_X, STEWARD, STEWARD_X, *ZONE_WIDE],
        note="a scoped list: each sees its own",
    ),
    R(
        "enterprise-list",
        POST,
        body="api:enterprise",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        invalid=[DISP_X],
    ),
    R(
        "enterprise-detail",
        GET,
        "enterprise",
        default=FORBIDDEN,
        ok=[ENT, STEWARD, DISP, SUP, LEADER, PROMOTER],
        not_found=[ENT_X, STEWARD_X, DISP_X],
    ),
    R(
        "enterprise-detail",
        PATCH,
        "enterprise",
        body="api:enterprise_patch",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP],
        not_found=[STEWARD_X, DISP_X],
    ),
    R(
        "enterprise-detail",
        PUT,
        "enterprise",
        body="api:enterprise_put",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP],
        not_found=[STEWARD_X, DISP_X],
    ),
    R(
        "enterprise-assign-steward",
        POST,
        "enterprise",
        body="api:assign_steward",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        not_found=[STEWARD_X, DISP_X],
        note="an enterprise user is refused any write before the lookup (StaffWrites)",
    ),
    R(
        "enterprise-steward-history",
        GET,
        "enterprise",
        default=FORBIDDEN,
        ok=[ENT, STEWARD, DISP, SUP, LEADER, PROMOTER],
        not_found=[ENT_X, STEWARD_X, DISP_X],
    ),
    R("steward-list", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP, LEADER]),
    R("steward-suggest", GET, body="q:suggest", default=FORBIDDEN, ok=[DISP, SUP, LEADER], invalid=[DISP_X]),
    R(
        "steward-handover",
        POST,
        body="api:handover",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        invalid=[DISP_X],
    ),
    # --- API: appeal configuration and KPIs ----------------------------------------------------------
    R("appeal-category-list", GET, default=FORBIDDEN, ok=CONFIG_READERS),
    R("appeal-category-detail", GET, "category", default=FORBIDDEN, ok=CONFIG_READERS),
    R("kpi-list", GET, body="q:kpi", default=FORBIDDEN, ok=KPI_READERS),
    R("kpi-by-department", GET, body="q:kpi", default=FORBIDDEN, ok=KPI_READERS),
    R("kpi-pauses", GET, body="q:kpi", default=FORBIDDEN, ok=KPI_READERS),
    # --- API: the leader's cockpit (guanjia/cockpit/api.py) -------------------------------------------
    R("cockpit-kpis", GET, body="q:kpi", default=FORBIDDEN, ok=COCKPIT_READERS),
    R("cockpit-rankings", GET, body="q:kpi", default=FORBIDDEN, ok=COCKPIT_READERS),
    R(
        "cockpit-rankings",
        GET,
        body="q:ranking_steward",
        default=FORBIDDEN,
        ok=[LEADER],
        note="stewards: for the leaders of their own zone only (not a supervisor, not a steward)",
    ),
    R("cockpit-volume", GET, body="q:kpi", default=FORBIDDEN, ok=COCKPIT_READERS),
    R("cockpit-open-by-age", GET, default=FORBIDDEN, ok=COCKPIT_READERS),
    # --- API: appeals ---------------------------------------------------------------------------------
    R("appeal-list", GET, default=OK, note="a scoped list: each sees its own, maybe none"),
    R(
        "appeal-list",
        POST,
        body="api:appeal",
        default=BAD_INPUT,
        ok=[ENT, STEWARD, DISP],
        forbidden=[SUP, LEADER, PROMOTER],
        note="an enterprise out of scope 'does not exist' in the body (400), like any unknown id",
    ),
    R("appeal-detail", GET, "appeal:signed", default=NOT_FOUND, ok=SEES_CO_HANDLED),
    api_step("dispatch", "submitted", ok=[DISP], sees=SEES_NEW),
    api_step("decline", "submitted", ok=[DISP], sees=SEES_NEW),
    api_step("merge", "submitted", ok=[DISP], sees=SEES_NEW),
    api_step("sign", "dispatched", ok=DEPARTMENT, sees=SEES_GIVEN),
    api_step("return", "dispatched", ok=DEPARTMENT, sees=SEES_GIVEN),
    api_step("answer", "signed", ok=DEPARTMENT, sees=SEES_CO_HANDLED),
    api_step("approve_answer", "drafted", ok=[HEAD], sees=SEES_GIVEN),
    api_step("reject_answer", "drafted", ok=[HEAD], sees=SEES_GIVEN),
    api_step("opinion", "signed", ok=[CO], sees=SEES_CO_HANDLED),
    api_step("pause", "signed", ok=DEPARTMENT, sees=SEES_CO_HANDLED),
    api_step("extend", "signed", ok=DEPARTMENT, sees=SEES_CO_HANDLED),
    api_step("resume", "waiting", ok=[ENT, STEWARD, *DEPARTMENT], sees=SEES_GIVEN),
    api_step("coordinate", "coordinate", ok=[LEADER], sees=SEES_GIVEN),
    api_step("rate", "answered", ok=[ENT], sees=SEES_GIVEN),
    api_step("decide_extension", "extension", ok=[SUP], sees=SEES_GIVEN, target="api_extension"),
    api_step("decide_review", "review", ok=[SUP], sees=SEES_NEW, target="api_review"),
    api_step("dispute_rating", "rated", ok=DEPARTMENT, sees=SEES_GIVEN, target="api_rating"),
    R("appeal-attachments", GET, "appeal:signed", default=NOT_FOUND, ok=SEES_CO_HANDLED),
    R(
        "appeal-attachments",
        POST,
        "appeal:signed",
        body="api:attach",
        default=NOT_FOUND,
        ok=[ENT, STEWARD, DISP, *DEPARTMENT, CO],
        forbidden=[SUP, LEADER],
    ),
    R("appeal-attachment", GET, "api_attachment", default=NOT_FOUND, ok=SEES_CO_HANDLED),
    # --- visits (定时上门): the steward's calendar, recording a visit, a visit's page -------------------
    R("visits:calendar", GET, default=FORBIDDEN, ok=[STEWARD, STEWARD_X, DISP, DISP_X, SUP]),
    R("visits:new", GET, "visit_enterprise", default=FORBIDDEN, ok=[STEWARD], not_found=[STEWARD_X]),
    R(
        "visits:new",
        POST,
        "visit_enterprise",
        body="visit",
        default=FORBIDDEN,
        ok=[STEWARD],
        not_found=[STEWARD_X],
    ),
    R(
        "visits:detail",
        GET,
        "visit",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP, LEADER, PROMOTER],
        not_found=[STEWARD_X, DISP_X],
    ),
    R("visits:plan", GET, "visit_enterprise", default=FORBIDDEN, ok=[STEWARD], not_found=[STEWARD_X]),
    R(
        "visits:plan",
        POST,
        "visit_enterprise",
        body="visit_plan",
        default=FORBIDDEN,
        ok=[STEWARD],
        not_found=[STEWARD_X],
    ),
    R("visits:cancel_plan", POST, "visit_plan", default=FORBIDDEN, ok=[STEWARD], not_found=[STEWARD_X]),
    R(
        "visits:photo",
        GET,
        "visit_photo",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP, LEADER, PROMOTER],
        not_found=[STEWARD_X, DISP_X],
    ),
    R("visits:schedule", GET, "visit_schedule", default=FORBIDDEN, ok=[DISP, SUP], not_found=[DISP_X]),
    R(
        "visits:schedule",
        POST,
        "visit_schedule",
        body="visit_interval",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        not_found=[DISP_X],
    ),
    R("visits:overdue", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP, LEADER], note="the user's zones"),
    R("visits:overdue_list", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP, LEADER], note="the user's zones"),
    # --- API: visits and the visit schedule ------------------------------------------------------------
    R("visit-list", GET, default=FORBIDDEN, ok=[STEWARD, STEWARD_X, *ZONE_WIDE], note="a scoped list"),
    R(
        "visit-list",
        POST,
        body="api:visit",
        default=FORBIDDEN,
        ok=[STEWARD],
        bad_input=[STEWARD_X],
        note="another steward's enterprise 'does not exist' in the body (400)",
    ),
    R(
        "visit-detail",
        GET,
        "visit",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP, LEADER, PROMOTER],
        not_found=[STEWARD_X, DISP_X],
    ),
    R(
        "visit-schedule-list",
        GET,
        default=FORBIDDEN,
        ok=[STEWARD, STEWARD_X, *ZONE_WIDE],
        note="a scoped list",
    ),
    R(
        "visit-schedule-detail",
        PATCH,
        "visit_schedule",
        body="api:visit_interval",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        not_found=[DISP_X],
    ),
    R(
        "visit-photo",
        GET,
        "api_visit_photo",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP, LEADER, PROMOTER],
        not_found=[STEWARD_X, DISP_X],
    ),
    R("visit-plan-list", GET, default=FORBIDDEN, ok=[STEWARD, STEWARD_X, *ZONE_WIDE], note="a scoped list"),
    R(
        "visit-plan-list",
        POST,
        body="api:visit_plan",
        default=FORBIDDEN,
        ok=[STEWARD],
        bad_input=[STEWARD_X],
        note="another steward's enterprise 'does not exist' in the body (400)",
    ),
    R(
        "visit-plan-detail",
        GET,
        "visit_plan",
        default=FORBIDDEN,
        ok=[STEWARD, DISP, SUP, LEADER, PROMOTER],
        not_found=[STEWARD_X, DISP_X],
    ),
    R("visit-plan-detail", DELETE, "visit_plan", default=FORBIDDEN, ok=[STEWARD], not_found=[STEWARD_X]),
    R("visit-overdue-by-zone", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP, LEADER]),
    R("visit-overdue-by-steward", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP, LEADER]),
    # --- campaigns (专项行动): the zone's dispatchers and supervisors keep them, leaders read them, a
    # steward sees those where it has targets; another zone's staff get 404 (zone A's campaign) ---------
    R("campaigns:list", GET, default=FORBIDDEN, ok=CAMPAIGN_READERS, note="a scoped list"),
    R("campaigns:new", GET, default=FORBIDDEN, ok=[DISP, DISP_X, SUP]),
    R(
        "campaigns:new",
        POST,
        body="campaign",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        invalid=[DISP_X],
        note="zone A is not among another zone's dispatcher's choices",
    ),
    *[
        R(
            name,
            GET,
            "campaign",
            default=FORBIDDEN,
            ok=[STEWARD, DISP, SUP, LEADER],
            not_found=[STEWARD_X, DISP_X],
        )
        for name in ("campaigns:detail", "campaigns:problems")
    ],
    *[
        R(name, method, "campaign", body=body, default=FORBIDDEN, ok=[DISP, SUP], not_found=[DISP_X])
        for name, body in (
            ("campaigns:edit", "campaign_edit"),
            ("campaigns:targets-add", "campaign_targets_add"),
            ("campaigns:targets-import", "campaign_import"),
            ("campaigns:targets-assign", "campaign_assign"),
        )
        for method in (GET, POST)
    ],
    # --- API: campaigns ------------------------------------------------------------------------------
    R("campaign-list", GET, default=FORBIDDEN, ok=CAMPAIGN_READERS, note="a scoped list"),
    R(
        "campaign-list",
        POST,
        body="api:campaign",
        default=FORBIDDEN,
        ok=[DISP, SUP],
        bad_input=[DISP_X],
        note="a zone out of the caller's scope 'does not exist' in the body (400)",
    ),
    *[
        R(
            name,
            GET,
            "campaign",
            default=FORBIDDEN,
            ok=[STEWARD, DISP, SUP, LEADER],
            not_found=[STEWARD_X, DISP_X],
        )
        for name in ("campaign-detail", "campaign-coverage", "campaign-targets")
    ],
    *[
        R(name, method, "campaign", body=body, default=FORBIDDEN, ok=[DISP, SUP], not_found=[DISP_X])
        for name, method, body in (
            ("campaign-detail", PATCH, "api:campaign_patch"),
            ("campaign-targets", POST, "api:campaign_targets"),
            ("campaign-assign-targets", POST, "api:campaign_assign"),
        )
    ],
    # --- briefings (周报/月报): the leaders and supervisors of the scope; zone B's briefing is out of
    # zone A's scope (404); no actor here is a city user, whose view tests_briefing covers -------------
    R("cockpit:briefings", GET, default=FORBIDDEN, ok=[SUP, LEADER], note="a scoped list"),
    post_only("cockpit:briefing-generate"),
    R("cockpit:briefing-generate", POST, body="briefing_generate", default=FORBIDDEN, ok=[SUP, LEADER]),
    *[
        row
        for name in BRIEFING_READS
        for row in (
            R(name, GET, "briefing", default=FORBIDDEN, ok=[SUP, LEADER]),
            R(name, GET, "briefing_b", default=FORBIDDEN, not_found=[SUP, LEADER]),
        )
    ],
    R("briefing-list", GET, default=FORBIDDEN, ok=[SUP, LEADER], note="a scoped list"),
    R("briefing-list", POST, body="api:briefing", default=FORBIDDEN, ok=[SUP, LEADER]),
    # --- Django admin: a read-only window for the system admin; others are sent to the login ------
    R("admin:index", GET, default=LOGIN, ok=[SYS]),
    R("admin:app_list", GET, "admin_app", default=LOGIN, ok=[SYS]),
    R("admin:*_changelist", GET, "admin_model", default=LOGIN, ok=[SYS], note="every registered model"),
    R("admin:*_change", GET, "admin_object", default=LOGIN, ok=[SYS], note="the read-only object view"),
    R("admin:*_history", GET, "admin_object", default=LOGIN, ok=[SYS]),
    R("admin:*_add", GET, "admin_model", default=LOGIN, forbidden=[SYS], note="no add, change or delete"),
    R("admin:*_delete", GET, "admin_object", default=LOGIN, forbidden=[SYS]),
    R("admin:login", GET, default=LOGIN, anon=LOGIN, note="the platform's login, with its lockout"),
    R(
        "admin:logout",
        POST,
        default=OK,
        anon=OK,
        login=[SYS],
        note="others are sent to /admin/, then the login",
    ),
    R("admin:password_change", GET, default=LOGIN, ok=[SYS]),
    R("admin:password_change_done", GET, default=LOGIN, ok=[SYS]),
    R("admin:autocomplete", GET, default=LOGIN, forbidden=[SYS], note="no admin declares autocomplete"),
    R("admin:jsi18n", GET, default=LOGIN, ok=[SYS]),
    R("admin:view_on_site", GET, "admin_view_on_site", default=LOGIN, not_found=[SYS]),
]

# The investment app's rows live beside it, one module per part (tests_matrix/investment/); they
# import Row and R from here, so they are added once this module has defined them.
from guanjia.tests_matrix import capital as _capital  # noqa: E402
from guanjia.tests_matrix import dispatch as _dispatch  # noqa: E402
from guanjia.tests_matrix import exchange as _exchange  # noqa: E402
from guanjia.tests_matrix import investment as _investment  # noqa: E402
from guanjia.tests_matrix import knowledge as _knowledge  # noqa: E402
from guanjia.tests_matrix import policies as _policies  # noqa: E402
from guanjia.tests_matrix import talent as _talent  # noqa: E402
from guanjia.tests_matrix import windows as _windows  # noqa: E402

PART_APPS = (_investment, _policies, _exchange, _windows, _knowledge, _dispatch, _talent, _capital)
for _part_app in PART_APPS:
    MATRIX.extend(_part_app.ROWS)
