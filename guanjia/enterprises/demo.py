"""A realistic, made-up area to show and try the platform: 江南市, two zones, their staff and enterprises.

Everything is drawn from one seeded random generator, so the same seed gives
the same enterprises, codes and names. Company names are combinations of
invented words with the fictional city's name; any likeness to a real company
is accidental. The build writes in one transaction with bulk inserts.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from guanjia.core import audit
from guanjia.core.models import OrgUnit, RoleGrant, User
from guanjia.core.roles import Role
from guanjia.enterprises.industries import section_of
from guanjia.enterprises.models import (
    Contact,
    Enterprise,
    EnterpriseMembership,
    Scale,
    StewardAssignment,
    Tag,
    Tier,
)
from guanjia.enterprises.services import TIER_WEIGHT
from guanjia.enterprises.uscc import with_check_digit

DEMO_PASSWORD = "Guanjia-demo-2026"
DEFAULT_SEED = 2026
DEFAULT_ENTERPRISES = 320
REGISTERED_WITHIN_DAYS = 100
# Newly registered enterprises left without a steward, so that the balancing suggestion has work.
UNASSIGNED_PER_ZONE = 2

CITY = ("jn", "江南市")


@dataclass(frozen=True)
class ZoneSpec:
    key: str
    name: str
    short: str
    region_code: str  # 6-digit administrative division code, the USCC's characters 3–8
    share: float  # of the enterprises
    stewards: int
    roads: tuple[str, ...]


ZONES = (
    ZoneSpec(
        "gx",
        "江南高新区",
        "高新区",
        "320591",
        0.55,
        4,
        ("科创大道", "星湖路", "翠微路", "云锦路", "白鹭路", "启航路", "青枫街", "知行路"),
    ),
    ZoneSpec(
        "jk",
        "江南经开区",
        "经开区",
        "320592",
        0.45,
        4,
        ("兴业大道", "经三路", "纬二路", "纬五路", "港城路", "通江路", "临港大道", "华夏路"),
    ),
)

# Every zone gets the same departments; the names are those the appeal categories route to.
# The unit code is f"{CITY[0]}-{zone.key}-{key}", e.g. "jn-gx-market".
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("centre", "企业服务中心"),
    ("planning", "自然资源和规划局"),
    ("market", "市场监督管理局"),
    ("hr", "人力资源和社会保障局"),
    ("tax", "税务局"),
    ("housing", "住房和城乡建设局"),
    ("ecology", "生态环境局"),
    ("commerce", "商务局"),
    ("science", "科技局"),
    ("economy", "经济发展局"),
    ("fiscal", "财政局"),
    ("finance", "金融工作局"),
    ("ip", "知识产权局"),
    ("approval", "行政审批局"),
    ("transport", "交通运输局"),
    ("safety", "应急管理局"),
    ("police", "公安分局"),
    ("urban", "城市管理局"),
    ("education", "教育局"),
    ("telecom", "通信管理办"),
    ("power", "供电公司"),
    ("water", "水务公司"),
    ("gas", "燃气公司"),
)
DISPATCH_DESK = "centre"

TAGS = ("高新技术企业", "专精特新", "规上", "龙头", "外资企业", "上市企业", "瞪羚企业")

# (division, weight): a manufacturing zone with its software and technical services.
INDUSTRY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("39", 14),
    ("38", 10),
    ("34", 9),
    ("35", 9),
    ("26", 8),
    ("27", 6),
    ("36", 3),
    ("33", 4),
    ("29", 3),
    ("40", 3),
    ("30", 2),
    ("14", 2),
    ("17", 1),
    ("65", 9),
    ("64", 3),
    ("63", 1),
    ("73", 3),
    ("74", 4),
    ("75", 4),
    ("51", 3),
    ("54", 2),
    ("59", 2),
    ("72", 3),
    ("48", 1),
    ("44", 1),
    ("77", 1),
    ("70", 1),
)

# The word that says what a company does, by division.
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "14": ("食品", "食品科技"),
    "17": ("纺织", "纺织科技"),
    "26": ("化工", "新材料", "精细化工", "材料科技"),
    "27": ("生物医药", "制药", "医药科技", "生物科技"),
    "29": ("塑胶", "橡塑制品", "高分子材料"),
    "30": ("新型建材", "陶瓷科技", "玻璃科技"),
    "33": ("金属制品", "五金", "精密金属"),
    "34": ("机械", "精密机械", "流体设备", "动力科技"),
    "35": ("智能装备", "自动化设备", "医疗器械", "半导体设备"),
    "36": ("汽车零部件", "汽车部件", "车用电子"),
    "38": ("电气", "新能源", "电器", "储能科技", "光伏科技"),
    "39": ("电子", "微电子", "光电科技", "半导体", "电子科技", "通信设备"),
    "40": ("仪器仪表", "传感技术", "测控技术"),
    "44": ("能源", "热电"),
    "48": ("建设工程", "市政工程"),
    "51": ("贸易", "供应链管理", "进出口"),
    "54": ("物流", "运输"),
    "59": ("仓储", "物流"),
    "63": ("通信技术",),
    "64": ("网络科技", "互联网科技"),
    "65": ("软件", "信息技术", "数据科技", "智能科技"),
    "70": ("置业",),
    "72": ("企业管理咨询", "人力资源服务"),
    "73": ("技术研究院", "研发科技"),
    "74": ("检测技术", "工程设计", "检验检测"),
    "75": ("科技服务", "科技发展"),
    "77": ("环保科技", "环境工程"),
}

# Trade names (字号) are two of these characters; the pairs are invented words.
_TRADE_FIRST = "恒博瑞德鼎晶宏嘉启海精盛康智卓凯英聚永泰安昌锦润正明达诚华天源科"
_TRADE_SECOND = "信远创丰禾盛图纳研泰瑞越诺锐能昌达邦川宇辰峰拓通泽航芯隆维"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉建文辉力国红晨宇浩然欣怡子轩雨萱思远佳琪志诚"
_MOBILE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "186", "187", "188")
_PRIMARY_POSITIONS = ("总经理", "副总经理", "行政总监", "办公室主任", "董事长助理")
_OTHER_POSITIONS = ("财务经理", "人事经理", "行政专员", "生产经理", "证券事务代表")

# Enterprises founded before the USCC reform (GB 32100, 2015-10-01) kept their old
# organisation code inside the new one; later ones got a code starting with "MA".
_USCC_REFORM = date(2015, 10, 1)
_FOUNDED_FROM, _FOUNDED_TO = date(1996, 1, 1), date(2025, 9, 30)


# --- Demo logins --------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    username: str
    sees: str
    password: str = DEMO_PASSWORD

    @property
    def role_label(self) -> str:
        return str(self.role.label)


# One account per role to try; defined once for the demo-data command and scripts/run_demo.py.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    # What each account can try today; the column grows as modules land (appeals, visits, cockpit…).
    DemoLogin(
        Role.ENTERPRISE_USER,
        "gj_enterprise",
        "企业主页、常见问题、提交诉求、我的诉求与评价、预约办事、融资需求、人才服务（高新区一家重点企业）",
    ),
    DemoLogin(
        Role.STEWARD,
        "gj_steward1",
        "我的企业、代企业登记诉求、回访代录评价、邀请企业用户（高新区 gj_steward1–4，经开区 5–8）",
    ),
    DemoLogin(
        Role.DISPATCHER,
        "gj_dispatcher",
        "诉求受理与交办、诉求总览、高新区企业库与管家交接（经开区：gj_dispatcher2）",
    ),
    DemoLogin(
        Role.HANDLER,
        "gj_handler",
        "部门工作台：高新区市场监督管理局的签收、退回、答复（其他部门：gj_handler_tax 等）",
    ),
    DemoLogin(
        Role.DEPARTMENT_HEAD,
        "gj_dept_head",
        "同承办人，并接收本部门的催办；管理企业服务专区的窗口、工作人员、排班与延时服务",
    ),
    DemoLogin(Role.HANDLER, "gj_window1", "窗口工作人员：我的班次与预约"),
    DemoLogin(Role.HANDLER, "gj_handler_hr", "人力资源和社会保障局：人才认定与人才服务事项的办理"),
    DemoLogin(
        Role.SUPERVISOR, "gj_supervisor", "诉求总览与督办、高新区企业库与管家安排（经开区：gj_supervisor2）"
    ),
    DemoLogin(
        Role.LEADER,
        "gj_leader",
        "诉求总览、红牌提醒、企业库（电话脱敏）、上市后备企业阶段更正、人才统计与设置（全市：gj_city_leader）",
    ),
    DemoLogin(
        Role.PROMOTER,
        "gj_promoter",
        "高新区产业链招商：链图谱、线索、项目、审批代办、基金与融资需求、上市后备企业库",
    ),
    DemoLogin(
        Role.SECONDED_CADRE,
        "gj_cadre",
        "我的挂职（高新区赴昆山高新区）：挂职见闻、对接活动、推荐招商线索、提出经验做法（其他挂职干部：gj_cadre2–5）",
    ),
    DemoLogin(Role.SYSADMIN, "gj_sysadmin", "组织机构与用户账号（看不到业务数据）"),
    DemoLogin(Role.SECADMIN, "gj_secadmin", "角色授予、安全策略、账号解锁与两步验证重置（看不到业务数据）"),
    DemoLogin(Role.AUDITOR, "gj_auditor", "仅审计日志：查询、导出、校验哈希链"),
)


def demo_logins() -> list[DemoLogin]:
    """The demo accounts to try, one per role."""
    return list(DEMO_LOGINS)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_logins(logins: Sequence[DemoLogin] | None = None) -> str:
    """The demo logins as an aligned text table (CJK characters count double)."""
    rows = [("角色", "用户名", "密码", "可以看到")]
    rows += [(x.role_label, x.username, x.password, x.sees) for x in (logins or DEMO_LOGINS)]
    widths = [max(_width(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3] for row in rows
    ]
    lines.insert(1, "-" * (sum(widths) + 6 + max(_width(row[3]) for row in rows)))
    return "\n".join(lines)


# --- Generation ---------------------------------------------------------------


@dataclass
class DemoSummary:
    seed: int
    enterprises: int
    unassigned: int
    users: int
    units: int


class DemoDataExists(Exception):
    """The database already holds the demo area's units or accounts."""


def _person(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _org_code(rng: random.Random, founded: date) -> str:
    """A 9-character organisation code (GB 11714) with its own check character."""
    if founded >= _USCC_REFORM:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        body = "MA" + "".join(rng.choice(alphabet) for _ in range(6))
    else:
        body = f"{rng.randrange(10**7, 10**8)}"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10 for ch in body]
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _capital(rng: random.Random, scale: str) -> Decimal:
    low, high, step = {
        Scale.LARGE: (5000, 100000, 1000),
        Scale.MEDIUM: (1000, 20000, 100),
        Scale.SMALL: (100, 3000, 50),
        Scale.MICRO: (10, 500, 10),
    }[Scale(scale)]
    return Decimal(rng.randrange(low, high + 1, step))


def _weighted_division(rng: random.Random) -> str:
    codes, weights = zip(*INDUSTRY_WEIGHTS, strict=True)
    return rng.choices(codes, weights=weights)[0]


@dataclass
class _PlannedEnterprise:
    zone: ZoneSpec
    enterprise: Enterprise
    tags: list[str]
    contacts: list[Contact]


def _plan_enterprises(rng: random.Random, count: int) -> list[_PlannedEnterprise]:
    tiers = [Tier.KEY] * round(count * 0.1) + [Tier.ABOVE_SCALE] * round(count * 0.3)
    tiers += [Tier.GENERAL] * (count - len(tiers))
    rng.shuffle(tiers)
    zone_sizes = [round(count * zone.share) for zone in ZONES[:-1]]
    zone_sizes.append(count - sum(zone_sizes))
    zones = [zone for zone, size in zip(ZONES, zone_sizes, strict=True) for _ in range(size)]

    names: set[str] = set()
    codes: set[str] = set()
    planned = []
    span = (_FOUNDED_TO - _FOUNDED_FROM).days
    for zone, tier in zip(zones, tiers, strict=True):
        division = _weighted_division(rng)
        founded = _FOUNDED_FROM + timedelta(days=rng.randrange(span))
        scale = {
            Tier.KEY: (Scale.LARGE, Scale.MEDIUM),
            Tier.ABOVE_SCALE: (Scale.MEDIUM, Scale.SMALL),
            Tier.GENERAL: (Scale.SMALL, Scale.MICRO),
        }[tier][rng.random() < 0.5]
        tags = []
        if tier in (Tier.KEY, Tier.ABOVE_SCALE):
            tags.append("规上")
        if tier == Tier.KEY and rng.random() < 0.5:
            tags.append("龙头")
        listed = tier == Tier.KEY and rng.random() < 0.3
        if listed:
            tags.append("上市企业")
        tech = section_of(division) in ("C", "I", "M")
        if tech and rng.random() < (0.7 if tier == Tier.KEY else 0.35):
            tags.append("高新技术企业")
            if founded.year >= 2012 and rng.random() < 0.25:
                tags.append("瞪羚企业")
        if section_of(division) == "C" and tier != Tier.KEY and rng.random() < 0.12:
            tags.append("专精特新")
        foreign = rng.random() < 0.08
        if foreign:
            tags.append("外资企业")

        while True:
            trade = rng.choice(_TRADE_FIRST) + rng.choice(_TRADE_SECOND)
            if trade[0] == trade[1]:
                continue
            word = rng.choice(INDUSTRY_WORDS[division])
            form = "股份有限公司" if listed or (tier == Tier.KEY and rng.random() < 0.3) else "有限公司"
            if foreign:
                name = f"{trade}{word}（江南）{form}"
            else:
                name = f"{rng.choice(('江南', '江南', '江南市'))}{trade}{word}{form}"
            if name not in names:
                names.add(name)
                break
        while True:
            uscc = with_check_digit("91" + zone.region_code + _org_code(rng, founded))
            if uscc not in codes:
                codes.add(uscc)
                break

        building = f"{rng.randint(1, 12)}号楼" if section_of(division) in ("I", "M", "L") else ""
        address = f"江南市{zone.short}{rng.choice(zone.roads)}{rng.randint(1, 399)}号{building}"
        enterprise = Enterprise(
            uscc=uscc,
            name=name,
            legal_representative=_person(rng),
            founded_on=founded,
            registered_capital=_capital(rng, scale),
            scale=scale,
            tier=tier,
            industry_section=section_of(division),
            industry_division=division,
            address=address,
        )
        contacts = [
            Contact(
                name=_person(rng),
                position=rng.choice(_PRIMARY_POSITIONS),
                phone=_mobile(rng),
                is_primary=True,
            )
        ]
        if rng.random() < 0.5:
            contacts.append(
                Contact(name=_person(rng), position=rng.choice(_OTHER_POSITIONS), phone=_mobile(rng))
            )
        planned.append(_PlannedEnterprise(zone, enterprise, tags, contacts))
    return planned


@dataclass
class _StaffSpec:
    username: str
    unit: str | None  # unit code
    role: Role


def _staff_specs() -> list[_StaffSpec]:
    gx, jk = (f"{CITY[0]}-{zone.key}" for zone in ZONES)
    specs = []
    number = 0
    for zone in ZONES:
        for _ in range(zone.stewards):
            number += 1
            specs.append(_StaffSpec(f"gj_steward{number}", f"{CITY[0]}-{zone.key}-centre", Role.STEWARD))
    for suffix, zone_code in (("", gx), ("2", jk)):
        specs += [
            _StaffSpec(f"gj_dispatcher{suffix}", f"{zone_code}-centre", Role.DISPATCHER),
            _StaffSpec(f"gj_supervisor{suffix}", f"{zone_code}-centre", Role.SUPERVISOR),
            _StaffSpec(f"gj_leader{suffix}", zone_code, Role.LEADER),
        ]
    specs.append(_StaffSpec("gj_city_leader", CITY[0], Role.LEADER))
    for zone_code, prefix, departments in (
        (gx, "", ("market", "tax", "planning", "hr", "housing", "ecology")),
        (jk, "jk_", ("market", "tax")),
    ):
        for dept in departments:
            if zone_code == gx and dept == "market":
                handler, head = "gj_handler", "gj_dept_head"
            else:
                handler, head = f"gj_handler_{prefix}{dept}", f"gj_head_{prefix}{dept}"
            specs.append(_StaffSpec(handler, f"{zone_code}-{dept}", Role.HANDLER))
            specs.append(_StaffSpec(head, f"{zone_code}-{dept}", Role.DEPARTMENT_HEAD))
    specs += [
        _StaffSpec("gj_promoter", gx, Role.PROMOTER),
        _StaffSpec("gj_cadre", gx, Role.SECONDED_CADRE),
        # 三员分立: the admin accounts belong to no unit and hold no other role.
        _StaffSpec("gj_sysadmin", None, Role.SYSADMIN),
        _StaffSpec("gj_secadmin", None, Role.SECADMIN),
        _StaffSpec("gj_auditor", None, Role.AUDITOR),
    ]
    return specs


def _build_units() -> dict[str, OrgUnit]:
    city_code, city_name = CITY
    city = OrgUnit.objects.create(code=city_code, name=city_name, kind=OrgUnit.Kind.CITY)
    units = {city_code: city}
    for zone in ZONES:
        zone_unit = OrgUnit.objects.create(
            code=f"{city_code}-{zone.key}", name=zone.name, kind=OrgUnit.Kind.ZONE, parent=city
        )
        units[zone_unit.code] = zone_unit
        departments = OrgUnit.objects.bulk_create(
            OrgUnit(
                code=f"{zone_unit.code}-{key}",
                name=f"{zone.short}{name}",
                kind=OrgUnit.Kind.DEPARTMENT,
                parent=zone_unit,
                is_dispatch_desk=key == DISPATCH_DESK,
            )
            for key, name in DEPARTMENTS
        )
        units.update((unit.code, unit) for unit in departments)
    return units


def _assign_stewards(
    planned: list[_PlannedEnterprise], stewards: dict[str, list[User]], rng: random.Random
) -> list[StewardAssignment]:
    """Give each enterprise the lightest-loaded steward of its zone (weighted by tier), heaviest first."""
    now = timezone.now()
    assignments = []
    for zone in ZONES:
        in_zone = [p for p in planned if p.zone is zone]
        newest = sorted(
            (p for p in in_zone if p.enterprise.tier == Tier.GENERAL),
            key=lambda p: (p.enterprise.founded_on, p.enterprise.uscc),
            reverse=True,
        )
        waiting = {id(p) for p in newest[:UNASSIGNED_PER_ZONE]}
        load = {s.username: 0 for s in stewards[zone.key]}
        order = sorted(in_zone, key=lambda p: (-TIER_WEIGHT[Tier(p.enterprise.tier)], p.enterprise.uscc))
        for item in order:
            if id(item) in waiting:
                continue
            steward = min(stewards[zone.key], key=lambda s: (load[s.username], s.username))
            load[steward.username] += TIER_WEIGHT[Tier(item.enterprise.tier)]
            item.enterprise.steward = steward
            assignments.append(
                StewardAssignment(
                    enterprise=item.enterprise,
                    steward=steward,
                    started_at=now - timedelta(days=rng.randint(30, 900)),
                    reason="初始分配",
                )
            )
    return assignments


def check_demo_absent() -> None:
    """Raise DemoDataExists when the demo area's units or accounts are already there."""
    unit_codes = [CITY[0]] + [f"{CITY[0]}-{zone.key}" for zone in ZONES]
    usernames = [spec.username for spec in _staff_specs()] + ["gj_enterprise", "gj_enterprise2"]
    clashes = list(OrgUnit.objects.filter(code__in=unit_codes).values_list("code", flat=True))
    clashes += list(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    if clashes:
        raise DemoDataExists("演示数据的单位或账号已存在：" + "、".join(sorted(clashes)))


demo_built = Signal()
"""Sent inside build_demo's transaction with `units` (code → OrgUnit) and `rng` (seeded)."""


def build_demo(*, seed: int = DEFAULT_SEED, enterprises: int = DEFAULT_ENTERPRISES) -> DemoSummary:
    """Write the demo area: units, staff for every role, enterprises with stewards, in one transaction."""
    rng = random.Random(seed)
    specs = _staff_specs()
    for spec in specs:
        validate_password(DEMO_PASSWORD, User(username=spec.username))
    # One hash for every demo account: PBKDF2 costs most of a second per call, and
    # the demo password is public anyway.
    password_hash = make_password(DEMO_PASSWORD)
    planned = _plan_enterprises(rng, enterprises)

    with transaction.atomic():
        check_demo_absent()
        units = _build_units()
        users = User.objects.bulk_create(
            User(
                username=spec.username,
                password=password_hash,
                full_name=_person(rng),
                unit=units[spec.unit] if spec.unit else None,
                phone=_mobile(rng) if spec.unit else "",
            )
            for spec in specs
        )
        RoleGrant.objects.bulk_create(
            RoleGrant(user=user, role=spec.role) for user, spec in zip(users, specs, strict=True)
        )
        stewards: dict[str, list[User]] = {zone.key: [] for zone in ZONES}
        for user, spec in zip(users, specs, strict=True):
            if spec.role == Role.STEWARD:
                stewards[spec.unit.split("-")[1]].append(user)  # type: ignore[union-attr]

        for item in planned:
            item.enterprise.zone = units[f"{CITY[0]}-{item.zone.key}"]
        assignments = _assign_stewards(planned, stewards, rng)
        # Registered on the platform over the last hundred days, drawn from a stream of their own (the
        # rest of the demo stays as it was): visit schedules fall due at different times, some overdue.
        joined, now = random.Random(seed + 1), timezone.now()
        for item in planned:
            item.enterprise.created_at = now - timedelta(days=joined.randrange(REGISTERED_WITHIN_DAYS))
        Enterprise.objects.bulk_create(item.enterprise for item in planned)
        for item in planned:
            for contact in item.contacts:
                contact.enterprise = item.enterprise
        Contact.objects.bulk_create(contact for item in planned for contact in item.contacts)
        StewardAssignment.objects.bulk_create(assignments)

        tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
        Through = Enterprise.tags.through
        Through.objects.bulk_create(
            Through(enterprise_id=item.enterprise.pk, tag_id=tags[name].pk)
            for item in planned
            for name in item.tags
        )

        enterprise_users = _bind_enterprise_users(planned, stewards, password_hash)
        # Apps above this one (appeals, …) add their part of the demo in the same transaction.
        demo_built.send(sender=build_demo, units=units, rng=rng)
        audit.record(
            None,
            "demo.load",
            summary=f"装入演示数据：{CITY[1]}，{len(planned)} 家企业",
            detail={"seed": seed, "enterprises": len(planned)},
        )
    return DemoSummary(
        seed=seed,
        enterprises=len(planned),
        unassigned=len(planned) - len(assignments),
        users=len(users) + enterprise_users,
        units=len(units),
    )


def _bind_enterprise_users(
    planned: Iterable[_PlannedEnterprise], stewards: dict[str, list[User]], password_hash: str
) -> int:
    """One enterprise user per zone, the primary contact of a well-served enterprise of its first steward."""
    count = 0
    for zone, username in zip(ZONES, ("gj_enterprise", "gj_enterprise2"), strict=True):
        first = stewards[zone.key][0]
        served = [p for p in planned if p.enterprise.steward_id == first.pk]
        served.sort(key=lambda p: (-TIER_WEIGHT[Tier(p.enterprise.tier)], p.enterprise.uscc))
        if not served:
            continue
        enterprise, contact = served[0].enterprise, served[0].contacts[0]
        user = User.objects.create(
            username=username, password=password_hash, full_name=contact.name, phone=contact.phone
        )
        RoleGrant.objects.create(user=user, role=Role.ENTERPRISE_USER)
        EnterpriseMembership.objects.create(user=user, enterprise=enterprise)
        count += 1
    return count
