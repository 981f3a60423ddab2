"""The policies part of `guanjia demo-data`: a policy library for 江南市 and deliveries in every state.

22 policies kept by the zones' departments (the city's own, 江南市…, carried out by 经开区's 经济发展局 and
科技局), some expired, each with benefit items whose conditions span every kind
(industry divisions, scales, tiers, tags, years since founding, registered capital, zones, conditions for
a person) and several 免申即享 items. Deliveries (兑现) go to enterprises that qualify (by
guanjia.policies.matching, all through the days their story spans), mostly in 高新区:
pushed by their steward or by a portal notice, applied, approved (some overdue), disbursed or rejected,
each with the events of its steps; the demo enterprise user's enterprise has some of every kind.

The departments that keep these policies and have no demo staff get a handler (gj_handler_science,
gj_handler_economy, gj_handler_economy2, gj_handler_science2). Rows are written straight to the
tables with bulk inserts, in the demo's transaction, keeping every rule the delivery service keeps: no
step skipped, a disbursed delivery has its amount (within the item's maximum) and date, approvals carry
their due date in working days, a rejection its reason. The random stream is drawn from a copy of the
demo's generator, so the rest of the demo stays as it was.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from guanjia.core import audit
from guanjia.core.models import OrgUnit, RoleGrant, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import add_workdays, is_workday
from guanjia.enterprises.models import Enterprise, EnterpriseMembership, Scale, Tag, Tier
from guanjia.policies import matching
from guanjia.policies.access import today as beijing_today
from guanjia.policies.models import (
    BenefitCategory,
    BenefitItem,
    Delivery,
    DeliveryEvent,
    DeliveryStatus,
    Policy,
    PushChannel,
    join_codes,
)

BEIJING = ZoneInfo("Asia/Shanghai")
DEMO_ENTERPRISE_USER = "gj_enterprise"
DEMO_STEWARD = "gj_steward1"

PUSHED, APPLIED, APPROVED = DeliveryStatus.PUSHED, DeliveryStatus.APPLIED, DeliveryStatus.APPROVED
DISBURSED, REJECTED = DeliveryStatus.DISBURSED, DeliveryStatus.REJECTED
# An approved delivery whose disbursement is past due (逾期未兑现): a state of the plan, not of the model.
OVERDUE = "overdue"
# The longest story of a delivery from its push to its last step, in days (see _days).
STORY_DAYS = 220

# Manufacturing (C), software and information services (I), research and technical services (M).
MANUFACTURING = ("14", "17", "26", "27", "29", "30", "33", "34", "35", "36", "38", "39", "40")
TECH = ("26", "27", "35", "38", "39", "40", "63", "64", "65", "73", "74", "75")
EQUIPMENT = ("34", "35", "36", "38", "39", "40")
SUBSIDY, INTEREST, REWARD = BenefitCategory.SUBSIDY, BenefitCategory.INTEREST, BenefitCategory.REWARD
TAX, TALENT = BenefitCategory.TAX, BenefitCategory.TALENT
LARGE, MEDIUM, SMALL, MICRO = Scale.LARGE, Scale.MEDIUM, Scale.SMALL, Scale.MICRO
KEY, ABOVE, GENERAL = Tier.KEY, Tier.ABOVE_SCALE, Tier.GENERAL


@dataclass(frozen=True)
class ItemSpec:
    name: str
    category: str
    summary: str
    max_amount: str | None = None  # 万元
    auto_grant: bool = False
    within: int = 20  # 兑现时限, working days after approval
    divisions: tuple[str, ...] = ()
    scales: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_years: int | None = None
    max_years: int | None = None
    capital_min: int | None = None
    capital_max: int | None = None
    other: str = ""
    zones: tuple[str, ...] = ()  # zone keys (guanjia.enterprises.demo.ZONES) narrowing a city policy


@dataclass(frozen=True)
class PolicySpec:
    department: str  # "gx-science": a zone's department
    title: str
    issuer: str
    number: str  # 文号, with {year} for the year it took effect
    purpose: str
    effective_days_ago: int
    lasts_days: int | None  # None: no expiry; shorter than effective_days_ago: expired
    items: tuple[ItemSpec, ...]


# Zone departments whose policies the demo writes and that have no demo handler yet: (zone key, key, handler).
# The city's own policies (江南市…) are carried out by a zone's department, as the org tree has departments
# under zones only: 经开区's 经济发展局 and 科技局 keep them there.
ZONE_KEEPERS = (
    ("gx", "science", "gj_handler_science"),
    ("gx", "economy", "gj_handler_economy"),
    ("jk", "economy", "gj_handler_economy2"),
    ("jk", "science", "gj_handler_science2"),
)

POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec(
        "gx-science",
        "江南高新区关于加快推进科技创新的若干政策",
        "江南高新区管委会",
        "高新管规〔{year}〕12号",
        "激励企业加大研发投入、加快建设创新平台",
        420,
        1460,
        (
            ItemSpec(
                "研发费用补助",
                SUBSIDY,
                "按企业上年度经税务部门确认的研发费用增量部分的10%给予补助。",
                "200",
                divisions=TECH,
                tags=("高新技术企业", "专精特新", "瞪羚企业"),
            ),
            ItemSpec(
                "高新技术企业首次认定奖励",
                REWARD,
                "对首次通过高新技术企业认定的企业给予一次性奖励。",
                "30",
                auto_grant=True,
                tags=("高新技术企业",),
                max_years=8,
            ),
            ItemSpec(
                "企业研发机构建设奖励",
                REWARD,
                "对新认定的省级、市级企业技术中心和工程技术研究中心分别给予奖励。",
                "100",
                scales=(LARGE, MEDIUM),
                divisions=MANUFACTURING,
                other="须已获批省级或市级研发机构，提供认定文件",
            ),
        ),
    ),
    PolicySpec(
        "gx-science",
        "江南高新区科技型中小企业培育计划实施办法",
        "江南高新区科技局",
        "高新科〔{year}〕5号",
        "壮大科技型中小企业群体",
        300,
        None,
        (
            ItemSpec(
                "科技型中小企业入库奖励",
                REWARD,
                "对当年首次入库的科技型中小企业给予奖励。",
                "5",
                auto_grant=True,
                within=15,
                divisions=TECH,
                scales=(SMALL, MICRO),
                max_years=10,
            ),
            ItemSpec(
                "科技成果转化补贴",
                SUBSIDY,
                "购买高校院所科技成果并在园区实施转化的，按技术合同实际成交额的20%给予补贴。",
                "50",
                divisions=TECH,
                other="须提供经登记的技术合同及付款凭证",
            ),
        ),
    ),
    PolicySpec(
        "gx-science",
        "江南高新区瞪羚企业培育办法",
        "江南高新区管委会",
        "高新管〔{year}〕31号",
        "支持高成长性企业加快发展",
        380,
        1095,
        (
            ItemSpec(
                "瞪羚企业认定奖励",
                REWARD,
                "对新认定的瞪羚企业给予一次性奖励，连续三年保持的再给予奖励。",
                "50",
                auto_grant=True,
                tags=("瞪羚企业",),
                min_years=3,
            ),
            ItemSpec(
                "瞪羚企业融资贴息",
                INTEREST,
                "对瞪羚企业当年新增银行贷款按实际支付利息的50%给予贴息。",
                "80",
                tags=("瞪羚企业",),
            ),
        ),
    ),
    PolicySpec(
        "gx-science",
        "江南高新区科技创新券实施细则",
        "江南高新区科技局",
        "高新科〔{year}〕2号",
        "降低中小企业购买科技服务的成本",
        760,
        365,
        (
            ItemSpec(
                "科技创新券",
                SUBSIDY,
                "企业购买检验检测、技术开发等科技服务的，按服务费用的50%抵扣。",
                "10",
                within=10,
                scales=(SMALL, MICRO),
            ),
        ),
    ),
    PolicySpec(
        "gx-economy",
        "江南高新区关于推动制造业高质量发展的若干措施",
        "江南高新区管委会",
        "高新管规〔{year}〕8号",
        "推动制造业智能化改造和数字化转型",
        400,
        1095,
        (
            ItemSpec(
                "智能化改造设备补助",
                SUBSIDY,
                "对设备投资额500万元以上的智能化改造项目，按设备投资额的10%给予补助。",
                "500",
                divisions=EQUIPMENT,
                capital_min=1000,
                other="项目须已竣工并通过验收",
            ),
            ItemSpec(
                "规上工业企业培育奖励",
                REWARD,
                "对纳入规模以上统计的工业企业给予奖励。",
                "20",
                auto_grant=True,
                divisions=MANUFACTURING,
                tiers=(ABOVE,),
            ),
            ItemSpec(
                "专精特新企业奖励",
                REWARD,
                "对新认定的省级专精特新中小企业给予奖励。",
                "30",
                auto_grant=True,
                tags=("专精特新",),
            ),
        ),
    ),
    PolicySpec(
        "gx-economy",
        "江南高新区工业企业技术改造专项资金管理办法",
        "江南高新区经济发展局",
        "高新经发〔{year}〕17号",
        "引导企业实施技术改造",
        330,
        None,
        (
            ItemSpec(
                "技术改造项目贷款贴息",
                INTEREST,
                "对技术改造项目贷款按同期贷款市场报价利率的50%给予贴息，期限不超过两年。",
                "300",
                divisions=MANUFACTURING,
                tiers=(KEY, ABOVE),
            ),
            ItemSpec(
                "绿色工厂奖励",
                REWARD,
                "对新获评国家级、省级绿色工厂的企业给予奖励。",
                "50",
                divisions=MANUFACTURING,
                scales=(LARGE, MEDIUM),
                other="须取得绿色工厂认定文件",
            ),
        ),
    ),
    PolicySpec(
        "gx-economy",
        "江南高新区支持企业开拓市场的若干政策",
        "江南高新区管委会",
        "高新管〔{year}〕45号",
        "支持企业参加国内外重点展会、开拓市场",
        800,
        540,
        (
            ItemSpec(
                "重点展会参展补贴",
                SUBSIDY,
                "参加园区推荐的国内外重点展会的，按展位费的50%给予补贴。",
                "10",
                within=15,
                divisions=MANUFACTURING,
            ),
            ItemSpec(
                "出口信用保险保费补贴",
                SUBSIDY,
                "投保短期出口信用保险的，按实际缴纳保费的50%给予补贴。",
                "20",
                within=15,
                divisions=MANUFACTURING,
                tags=("外资企业", "规上"),
            ),
        ),
    ),
    PolicySpec(
        "gx-hr",
        "江南高新区关于实施稳岗扩岗专项行动的通知",
        "江南高新区人力资源和社会保障局",
        "高新人社〔{year}〕9号",
        "稳定和扩大就业岗位",
        250,
        365,
        (
            ItemSpec(
                "失业保险稳岗返还",
                SUBSIDY,
                "上年度未裁员或裁员率不高于全国城镇调查失业率控制目标的企业，按上年度实际缴纳失业保险费的60%返还。",
                "20",
                auto_grant=True,
                within=10,
            ),
            ItemSpec(
                "一次性扩岗补助",
                SUBSIDY,
                "招用高校毕业生并签订一年以上劳动合同、缴纳社会保险的，按每人1500元给予补助。",
                "3",
                within=10,
                scales=(SMALL, MICRO),
            ),
        ),
    ),
    PolicySpec(
        "gx-hr",
        "江南高新区“星湖英才”计划实施办法",
        "江南高新区管委会",
        "高新管规〔{year}〕3号",
        "集聚创新创业领军人才",
        450,
        None,
        (
            ItemSpec(
                "领军人才创业资助",
                TALENT,
                "对入选“星湖英才”计划的领军人才创办的企业给予创业资助。",
                "300",
                max_years=5,
                divisions=TECH,
                other="创始人须入选“星湖英才”计划，且持股不低于30%",
            ),
            ItemSpec(
                "高层次人才安家补贴",
                TALENT,
                "企业引进的博士或副高以上职称人才，给予安家补贴。",
                "30",
                tags=("高新技术企业", "专精特新"),
                other="人才须与企业签订三年以上劳动合同",
            ),
        ),
    ),
    PolicySpec(
        "gx-market",
        "江南高新区质量强区建设奖励办法",
        "江南高新区市场监督管理局",
        "高新市监〔{year}〕6号",
        "推动企业提升质量和标准水平",
        390,
        1095,
        (
            ItemSpec(
                "高新区质量奖",
                REWARD,
                "对获得高新区质量奖的企业给予奖励。",
                "50",
                tiers=(KEY,),
                min_years=3,
            ),
            ItemSpec(
                "标准制定奖励",
                REWARD,
                "主导制定国际、国家、行业标准的，分别给予奖励。",
                "30",
                tags=("专精特新", "高新技术企业", "龙头"),
                other="须为标准的第一起草单位",
            ),
        ),
    ),
    PolicySpec(
        "gx-market",
        "江南高新区知识产权强企行动方案",
        "江南高新区管委会",
        "高新管〔{year}〕22号",
        "提升企业知识产权创造和运用水平",
        340,
        None,
        (
            ItemSpec(
                "发明专利授权资助",
                SUBSIDY,
                "对获得授权的发明专利，每件给予资助，每家企业每年最高10万元。",
                "10",
                within=15,
                divisions=TECH,
            ),
            ItemSpec(
                "知识产权贯标奖励",
                REWARD,
                "通过《企业知识产权合规管理体系要求》认证的，给予一次性奖励。",
                "5",
                scales=(MEDIUM, SMALL, MICRO),
            ),
            ItemSpec(
                "知识产权质押融资贴息",
                INTEREST,
                "以知识产权质押获得银行贷款的，按实际支付利息的50%给予贴息。",
                "20",
                capital_max=5000,
            ),
        ),
    ),
    PolicySpec(
        "gx-market",
        "江南高新区个体工商户转型升级为企业扶持办法",
        "江南高新区市场监督管理局",
        "高新市监〔{year}〕14号",
        "鼓励个体工商户转型升级为企业（个转企）",
        280,
        730,
        (
            ItemSpec(
                "个转企奖励",
                REWARD,
                "个体工商户转型为有限责任公司的，给予一次性奖励。",
                "2",
                auto_grant=True,
                within=10,
                scales=(MICRO,),
                max_years=2,
            ),
        ),
    ),
    PolicySpec(
        "gx-tax",
        "研发费用税前加计扣除政策操作指引",
        "国家税务总局江南高新区税务局",
        "江南高新税发〔{year}〕4号",
        "落实研发费用税前加计扣除政策",
        500,
        None,
        (
            ItemSpec(
                "研发费用加计扣除",
                TAX,
                "企业开展研发活动实际发生的研发费用，按实际发生额的100%在税前加计扣除。",
                auto_grant=True,
                within=15,
                divisions=TECH,
            ),
            ItemSpec(
                "高新技术企业所得税优惠",
                TAX,
                "经认定的高新技术企业，减按15%的税率征收企业所得税。",
                auto_grant=True,
                within=15,
                tags=("高新技术企业",),
            ),
        ),
    ),
    PolicySpec(
        "gx-tax",
        "小型微利企业所得税优惠政策指引",
        "国家税务总局江南高新区税务局",
        "江南高新税发〔{year}〕11号",
        "减轻小型微利企业税费负担",
        360,
        None,
        (
            ItemSpec(
                "小型微利企业所得税减免",
                TAX,
                "对小型微利企业减按25%计算应纳税所得额，按20%的税率缴纳企业所得税。",
                auto_grant=True,
                within=15,
                scales=(SMALL, MICRO),
                capital_max=3000,
            ),
            ItemSpec(
                "“六税两费”减半征收",
                TAX,
                "小型微利企业可在50%的税额幅度内减征资源税、城市维护建设税等“六税两费”。",
                within=15,
                scales=(SMALL, MICRO),
            ),
        ),
    ),
    PolicySpec(
        "jk-market",
        "江南经开区质量品牌提升奖励办法",
        "江南经开区管委会",
        "经开管〔{year}〕19号",
        "培育质量品牌",
        350,
        1095,
        (
            ItemSpec(
                "品牌培育奖励",
                REWARD,
                "对新获评省级以上品牌的企业给予奖励。",
                "20",
                tiers=(KEY, ABOVE),
            ),
            ItemSpec(
                "检验检测服务补贴",
                SUBSIDY,
                "委托第三方机构开展产品检验检测的，按费用的30%给予补贴。",
                "5",
                within=10,
                divisions=MANUFACTURING,
                scales=(SMALL, MICRO),
            ),
        ),
    ),
    PolicySpec(
        "jk-market",
        "江南经开区商标品牌战略实施办法",
        "江南经开区市场监督管理局",
        "经开市监〔{year}〕3号",
        "鼓励企业注册和运用商标",
        720,
        365,
        (
            ItemSpec("驰名商标奖励", REWARD, "对新认定的中国驰名商标给予奖励。", "50", tiers=(KEY,)),
            ItemSpec(
                "集体商标和证明商标注册奖励",
                REWARD,
                "新注册集体商标、证明商标的，每件给予奖励。",
                "10",
                within=15,
                scales=(MEDIUM, SMALL, MICRO),
            ),
        ),
    ),
    PolicySpec(
        "jk-tax",
        "江南经开区纳税信用A级企业激励措施",
        "国家税务总局江南经开区税务局",
        "江南经开税发〔{year}〕7号",
        "激励企业诚信纳税",
        320,
        None,
        (
            ItemSpec(
                "增值税留抵退税快办",
                TAX,
                "纳税信用A级企业申请增量留抵退税的，即报即审、限时办结。",
                within=5,
                tiers=(KEY, ABOVE),
                other="纳税信用等级须为A级",
            ),
        ),
    ),
    PolicySpec(
        "jk-economy",
        "江南市关于加快培育专精特新中小企业的实施意见",
        "江南市人民政府办公室",
        "江南政办发〔{year}〕36号",
        "加快培育专精特新中小企业",
        430,
        1095,
        (
            ItemSpec(
                "专精特新“小巨人”企业奖励",
                REWARD,
                "对新认定的国家级专精特新“小巨人”企业给予奖励。",
                "100",
                tags=("专精特新",),
                scales=(MEDIUM, SMALL),
                other="须列入工业和信息化部公布的“小巨人”企业名单",
            ),
            ItemSpec(
                "专精特新企业数字化转型补助",
                SUBSIDY,
                "专精特新企业实施数字化转型项目的，按软硬件投入的20%给予补助。",
                "100",
                tags=("专精特新",),
            ),
        ),
    ),
    PolicySpec(
        "jk-economy",
        "江南市智能制造示范工厂评定管理办法",
        "江南市工业和信息化局",
        "江南工信规〔{year}〕3号",
        "推进智能制造示范引领",
        310,
        None,
        (
            ItemSpec(
                "智能制造示范工厂奖励",
                REWARD,
                "对评定为市级智能制造示范工厂的企业给予奖励。",
                "200",
                divisions=EQUIPMENT,
                tiers=(KEY,),
            ),
            ItemSpec(
                "智能车间奖励",
                REWARD,
                "对评定为市级智能车间的企业给予奖励。",
                "50",
                divisions=MANUFACTURING,
                tiers=(KEY, ABOVE),
                min_years=2,
            ),
        ),
    ),
    PolicySpec(
        "jk-economy",
        "江南市工业互联网发展专项扶持政策",
        "江南市工业和信息化局",
        "江南工信规〔{year}〕1号",
        "推动企业上云用平台",
        780,
        540,
        (
            ItemSpec(
                "企业上云补贴",
                SUBSIDY,
                "企业购买云服务的，按年度服务费的30%给予补贴。",
                "10",
                within=15,
                scales=(MEDIUM, SMALL, MICRO),
            ),
            ItemSpec(
                "工业互联网平台应用奖励",
                REWARD,
                "建成企业级工业互联网平台并通过评估的，给予一次性奖励。",
                "30",
                divisions=EQUIPMENT,
                tiers=(KEY, ABOVE),
            ),
        ),
    ),
    PolicySpec(
        "jk-science",
        "江南市高新技术企业培育库管理办法",
        "江南市科学技术局",
        "江南科规〔{year}〕2号",
        "扩大高新技术企业培育规模",
        410,
        None,
        (
            ItemSpec(
                "高企培育入库奖励",
                REWARD,
                "对入选市高新技术企业培育库的企业给予奖励。",
                "10",
                divisions=TECH,
                scales=(MEDIUM, SMALL, MICRO),
                min_years=1,
            ),
            ItemSpec(
                "高新技术企业认定市级奖励",
                REWARD,
                "对通过认定（含重新认定）的高新技术企业给予市级奖励。",
                "20",
                auto_grant=True,
                tags=("高新技术企业",),
            ),
            ItemSpec(
                "高新区科技企业孵化补贴",
                SUBSIDY,
                "在高新区科技企业孵化器内成立不满三年的企业，按房租的50%给予补贴（本条仅适用于高新区）。",
                "15",
                max_years=3,
                zones=("gx",),
            ),
        ),
    ),
    PolicySpec(
        "jk-science",
        "江南市科技金融风险补偿资金管理办法",
        "江南市科学技术局",
        "江南科规〔{year}〕6号",
        "缓解科技型企业融资难题",
        290,
        1095,
        (
            ItemSpec(
                "科技贷款贴息",
                INTEREST,
                "科技型企业获得合作银行“科技贷”的，按贷款实际利息的40%给予贴息。",
                "50",
                divisions=TECH,
                capital_max=5000,
            ),
            ItemSpec(
                "首贷奖励",
                REWARD,
                "科技型企业首次获得银行贷款的，给予一次性奖励。",
                "5",
                within=10,
                divisions=TECH,
                scales=(SMALL, MICRO),
                max_years=6,
            ),
        ),
    ),
)

APPLICATION_NOTES = (
    "已按申报指南上传营业执照、财务报表和相关证明材料。",
    "已提交申报表及佐证材料，请审核。",
    "确认享受，相关票据和合同已上传。",
    "申报材料已盖章上传，联系人电话见企业信息。",
)
APPROVAL_NOTES = ("材料齐全，符合条件，同意兑现。", "经审核符合政策条件。", "经现场核查，符合条件。")
REJECT_REASONS = (
    "申报的研发费用与税务部门确认数据不一致，且未在规定时间内补正。",
    "项目尚未完成竣工验收，不符合申报条件。",
    "企业上年度存在严重失信记录，按规定不予兑现。",
    "同一事项已享受市级同类政策，不得重复享受。",
    "申报材料不全，经两次通知仍未补齐。",
)
# The states planned for an item's deliveries, in turn (an item's first delivery starts at its own place
# in the cycle): most are disbursed, a few overdue; _every_state fills in what a small demo misses.
OPEN_CYCLE = (
    *(PUSHED, DISBURSED, APPLIED, APPROVED, DISBURSED, REJECTED, PUSHED, DISBURSED, APPLIED, DISBURSED),
    *(PUSHED, APPROVED, DISBURSED, APPLIED, OVERDUE, DISBURSED, PUSHED, APPROVED, REJECTED, DISBURSED),
)
AUTO_CYCLE = (
    *(APPLIED, DISBURSED, OVERDUE, DISBURSED, APPROVED, DISBURSED, APPLIED),
    *(REJECTED, DISBURSED, DISBURSED, APPROVED, APPLIED, DISBURSED, DISBURSED),
)
CLOSED_CYCLE = (DISBURSED, DISBURSED, REJECTED, DISBURSED)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
_GIVEN = "伟芳敏静丽强磊军洋勇艳杰涛明超秀霞平刚英华建文辉国红晨宇浩然欣怡子轩思远佳琪志诚凯"
_NUMERALS = "零一二三四五六七八九十"


def _own_stream(rng: random.Random) -> random.Random:
    """A generator seeded from a copy of the demo's: deterministic, and draws nothing from the shared one."""
    copy = random.Random()
    copy.setstate(rng.getstate())
    return random.Random(copy.getrandbits(64) ^ 0x901_1C1E5)


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 16), rng.choice((0, 10, 20, 30, 40, 50))), BEIJING)


def _person(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def _article(number: int) -> str:
    if number <= 10:
        return _NUMERALS[number]
    tens, ones = divmod(number, 10)
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _last_workday(on_or_before: date) -> date:
    day = on_or_before
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


@dataclass
class _Item:
    spec: ItemSpec
    item: BenefitItem
    policy: Policy
    keepers: list[User]

    def in_force(self, on: date) -> bool:
        return self.policy.effective_on <= on and (
            self.policy.expires_on is None or on <= self.policy.expires_on
        )


@dataclass
class _Firm:
    enterprise: Enterprise
    member: User | None


@dataclass
class _Plan:
    item: _Item
    firm: _Firm
    state: str
    channel: str = PushChannel.PORTAL
    steps: list[tuple[str, datetime, User | None, str]] = field(default_factory=list)


class _PoliciesDemo:
    def __init__(self, rng: random.Random, today: date, units: dict[str, OrgUnit], city: OrgUnit) -> None:
        self.rng = rng
        self.today = today
        self.units = units
        self.city = city
        self.zones = {
            unit.code.rsplit("-", 1)[-1]: unit
            for unit in units.values()
            if unit.kind == OrgUnit.Kind.ZONE and unit.parent_id == city.pk
        }

    # --- departments and their keepers -------------------------------------------------------------

    def departments(self, like: User) -> dict[str, OrgUnit]:
        """The zone departments that keep the demo's policies, by spec key."""
        found: dict[str, OrgUnit] = {}
        for spec in POLICIES:
            if spec.department not in found:
                unit = self.units.get(f"{self.city.code}-{spec.department}")
                if unit is not None:
                    found[spec.department] = unit
        handlers = [(f"{zone}-{key}", username) for zone, key, username in ZONE_KEEPERS]
        for key, username in handlers:
            if key in found:
                self._handler(username, found[key], like)
        return found

    def _handler(self, username: str, unit: OrgUnit, like: User) -> User:
        """A handler account of the demo (its password the demo password, copied from `like`)."""
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                password=like.password,
                full_name=_person(self.rng),
                unit=unit,
                phone="139" + f"{self.rng.randrange(10**8):08d}",
            )
        RoleGrant.objects.get_or_create(user=user, role=Role.HANDLER)
        return user

    # --- the library -------------------------------------------------------------------------------

    def build_library(self, departments: dict[str, OrgUnit]) -> list[_Item]:
        rng, today = self.rng, self.today
        keepers: dict[int, list[User]] = {}
        for user in (
            User.objects.filter(
                unit__in=departments.values(),
                is_active=True,
                role_grants__role__in=[Role.HANDLER, Role.DEPARTMENT_HEAD],
            )
            .distinct()
            .order_by("username")
        ):
            assert user.unit_id is not None
            keepers.setdefault(user.unit_id, []).append(user)
        tags = {tag.name: tag for tag in Tag.objects.all()}
        specs = [
            spec
            for spec in POLICIES
            if spec.department in departments and departments[spec.department].pk in keepers
        ]
        policies = []
        for spec in specs:
            department = departments[spec.department]
            effective = today - timedelta(days=spec.effective_days_ago)
            expires = effective + timedelta(days=spec.lasts_days) if spec.lasts_days else None
            author = keepers[department.pk][0]
            created = _at(effective - timedelta(days=rng.randint(3, 20)), rng)
            policies.append(
                Policy(
                    title=spec.title,
                    issuer=spec.issuer,
                    document_number=spec.number.format(year=effective.year),
                    department=department,
                    effective_on=effective,
                    expires_on=expires,
                    full_text=self._full_text(spec, department, effective, expires),
                    created_by=author,
                    created_at=created,
                    updated_at=created,
                )
            )
        Policy.objects.bulk_create(policies)
        pairs: list[tuple[ItemSpec, Policy]] = [
            (item_spec, policy)
            for spec, policy in zip(specs, policies, strict=True)
            for item_spec in spec.items
        ]
        items = BenefitItem.objects.bulk_create(
            BenefitItem(
                policy=policy,
                name=s.name,
                category=s.category,
                summary=s.summary,
                max_amount=Decimal(s.max_amount) if s.max_amount else None,
                auto_grant=s.auto_grant,
                disburse_within_days=s.within,
                divisions=join_codes(s.divisions),
                scales=join_codes(s.scales),
                tiers=join_codes(s.tiers),
                min_years=s.min_years,
                max_years=s.max_years,
                capital_min=Decimal(s.capital_min) if s.capital_min is not None else None,
                capital_max=Decimal(s.capital_max) if s.capital_max is not None else None,
                other_conditions=s.other,
                created_at=policy.created_at,
            )
            for s, policy in pairs
        )
        ZoneThrough = BenefitItem.zones.through
        ZoneThrough.objects.bulk_create(
            ZoneThrough(benefititem_id=item.pk, orgunit_id=self.zones[key].pk)
            for item, (s, _policy) in zip(items, pairs, strict=True)
            for key in s.zones
            if key in self.zones
        )
        TagThrough = BenefitItem.tags.through
        TagThrough.objects.bulk_create(
            TagThrough(benefititem_id=item.pk, tag_id=tags[name].pk)
            for item, (s, _policy) in zip(items, pairs, strict=True)
            for name in s.tags
            if name in tags
        )
        found = []
        for item, (s, policy) in zip(items, pairs, strict=True):
            found.append(_Item(spec=s, item=item, policy=policy, keepers=keepers[policy.department_id]))
        return found

    def _full_text(self, spec: PolicySpec, department: OrgUnit, effective: date, expires: date | None) -> str:
        parent = department.parent
        area = self.city.name if parent is None or parent.kind == OrgUnit.Kind.CITY else parent.name
        articles = [
            f"为{spec.purpose}，结合{area}实际，制定本政策。",
            f"本政策适用于注册地和税收征管关系在{area}、具有独立法人资格、依法经营且信用良好的企业。",
        ]
        articles += [f"{item.name}。{item.summary}" for item in spec.items]
        articles.append(
            "企业应通过政策直达平台申报或确认，免申即享事项由承办部门按条件直接兑现，企业无需申报。"
        )
        articles.append("申报材料弄虚作假的，取消享受资格，追回已拨付资金，并按规定纳入信用记录。")
        period = f"，有效期至{_chinese_date(expires)}" if expires else ""
        articles.append(f"本政策由{department.name}负责解释，自{_chinese_date(effective)}起施行{period}。")
        return "\n".join(f"第{_article(n)}条　{text}" for n, text in enumerate(articles, start=1))

    # --- deliveries --------------------------------------------------------------------------------

    def firms(self) -> list[_Firm]:
        members = {
            m.enterprise_id: m.user
            for m in EnterpriseMembership.objects.filter(is_active=True).select_related("user").order_by("pk")
        }
        enterprises = (
            Enterprise.objects.filter(zone__in=self.zones.values(), steward__isnull=False)
            .select_related("steward")
            .order_by("pk")
        )
        return [_Firm(e, members.get(e.pk)) for e in enterprises]

    def _qualifying(self, item: _Item) -> set[int]:
        """The enterprises that qualify for the item all through the time its demo deliveries may span
        (up to STORY_DAYS before today, or before its policy expired): the conditions on years since
        founding hold over an interval of days, so holding at both ends is enough."""
        last = self.today if item.in_force(self.today) else item.policy.expires_on or self.today
        first = max(last - timedelta(days=STORY_DAYS), item.policy.effective_on)
        ids = set(matching.qualifying(item.item, on=last).values_list("pk", flat=True))
        return ids & set(matching.qualifying(item.item, on=first).values_list("pk", flat=True))

    def plan_deliveries(self, items: Sequence[_Item], firms: Sequence[_Firm]) -> list[_Plan]:
        rng, today = self.rng, self.today
        first_zone = self.zones.get("gx")
        plans: list[_Plan] = []
        taken: set[tuple[int, int]] = set()

        def add(item: _Item, firm: _Firm, state: str) -> None:
            taken.add((item.item.pk, firm.enterprise.pk))
            plans.append(_Plan(item, firm, state))

        # The demo enterprise user's enterprise: one benefit of every kind on its portal.
        own = next(
            (f for f in firms if f.member is not None and f.member.username == DEMO_ENTERPRISE_USER), None
        )
        qualifying = {item.item.pk: self._qualifying(item) for item in items}
        if own is not None:
            open_items = [
                i for i in items if i.in_force(today) and own.enterprise.pk in qualifying[i.item.pk]
            ]
            manual = [i for i in open_items if not i.spec.auto_grant]
            auto = [i for i in open_items if i.spec.auto_grant]
            for state, pool in (
                (PUSHED, manual),
                (APPLIED, manual),
                (DISBURSED, auto or manual),
                (APPROVED, manual),
            ):
                choice = next((i for i in pool if (i.item.pk, own.enterprise.pk) not in taken), None)
                if choice is not None:
                    add(choice, own, state)

        for number, item in enumerate(items):
            open_item = item.in_force(today)
            candidates = [
                f
                for f in firms
                if f.enterprise.pk in qualifying[item.item.pk]
                and (item.item.pk, f.enterprise.pk) not in taken
            ]
            rng.shuffle(candidates)
            near = [f for f in candidates if first_zone is None or f.enterprise.zone_id == first_zone.pk]
            far = [f for f in candidates if f not in near]
            chosen = near[: rng.randint(3, 6) if open_item else rng.randint(2, 3)] + far[: rng.randint(0, 2)]
            cycle = CLOSED_CYCLE if not open_item else AUTO_CYCLE if item.spec.auto_grant else OPEN_CYCLE
            for offset, firm in enumerate(chosen):
                add(item, firm, cycle[(number + offset) % len(cycle)])
        self._every_state(plans)
        return plans

    def _every_state(self, plans: list[_Plan]) -> None:
        """A small demo may miss a state in its cycles, and a department an overdue disbursement: a
        disbursed delivery of an item in force (in 高新区 where there is one) takes it instead."""
        today, first_zone = self.today, self.zones.get("gx")
        # Each department's keepers find an overdue disbursement on their home page.
        for department in sorted({plan.item.policy.department_id for plan in plans}):
            mine = [plan for plan in plans if plan.item.policy.department_id == department]
            spare = [plan for plan in mine if plan.state == DISBURSED and plan.item.in_force(today)]
            if spare and not any(plan.state == OVERDUE for plan in mine):
                spare[0].state = OVERDUE
        for state in (PUSHED, APPLIED, APPROVED, OVERDUE, REJECTED):
            if any(plan.state == state for plan in plans):
                continue
            spare = [
                plan
                for plan in plans
                if plan.state == DISBURSED
                and plan.item.in_force(today)
                and not (state == PUSHED and plan.item.spec.auto_grant)
            ]
            spare.sort(key=lambda plan: first_zone is None or plan.firm.enterprise.zone_id != first_zone.pk)
            if spare:
                spare[0].state = state

    def write_deliveries(self, plans: Sequence[_Plan]) -> None:
        deliveries = Delivery.objects.bulk_create(self._delivery(plan) for plan in plans)
        events = []
        for delivery, plan in zip(deliveries, plans, strict=True):
            before = ""
            for state, at, by, note in plan.steps:
                events.append(
                    DeliveryEvent(
                        delivery=delivery, from_status=before, to_status=state, by=by, at=at, note=note
                    )
                )
                before = state
        DeliveryEvent.objects.bulk_create(events)

    def _days(self, plan: _Plan) -> dict[str, date]:
        """The day of each step, in order, inside the policy's period and before today, ending in the
        plan's state."""
        rng, today, item = self.rng, self.today, plan.item
        policy = item.policy
        yesterday = today - timedelta(days=1)
        latest = min(yesterday, policy.expires_on) if policy.expires_on else yesterday
        within = item.spec.within
        state = plan.state
        if state == PUSHED:
            return {PUSHED: latest - timedelta(days=rng.randint(0, 40))}
        if state == APPLIED:
            applied = latest - timedelta(days=rng.randint(0, 20))
            return {PUSHED: applied - timedelta(days=rng.randint(1, 15)), APPLIED: applied}
        if state == REJECTED:  # after an application, and now and then after an approval
            rejected = _last_workday(latest - timedelta(days=rng.randint(1, 150)))
            applied = rejected - timedelta(days=rng.randint(2, 15))
            days: dict[str, date] = {PUSHED: applied - timedelta(days=rng.randint(1, 15)), APPLIED: applied}
            if rng.random() < 0.25:
                days[APPROVED] = _last_workday(rejected - timedelta(days=1))
            days[REJECTED] = rejected
            return days
        disbursed = None
        if state == APPROVED:  # recently: its disbursement is not due yet
            approved = _last_workday(latest - timedelta(days=rng.randint(0, 3)))
        elif state == OVERDUE:
            approved = _last_workday(latest - timedelta(days=within * 7 // 5 + rng.randint(8, 40)))
            while add_workdays(approved, within) >= today:
                approved = _last_workday(approved - timedelta(days=7))
        else:
            disbursed = _last_workday(latest - timedelta(days=rng.randint(2, 160)))
            approved = _last_workday(disbursed - timedelta(days=rng.randint(1, within)))
        applied = approved - timedelta(days=rng.randint(1, 12))
        days = {PUSHED: applied - timedelta(days=rng.randint(1, 15)), APPLIED: applied}
        days[APPROVED] = approved
        if disbursed is not None:
            days[DISBURSED] = disbursed
        return days

    def _delivery(self, plan: _Plan) -> Delivery:
        rng, item, firm = self.rng, plan.item, plan.firm
        enterprise, spec = firm.enterprise, item.spec
        days = self._days(plan)
        # Every policy of the demo took effect long enough ago for the longest story (about 200 days).
        assert min(days.values()) >= item.policy.effective_on, (spec.name, days)
        keeper = rng.choice(item.keepers)
        steward = enterprise.steward
        if spec.auto_grant:
            plan.channel = PushChannel.AUTO
        elif steward is not None and rng.random() < 0.6:
            plan.channel = PushChannel.STEWARD
        pushed_by = steward if plan.channel == PushChannel.STEWARD else keeper
        # The enterprise applies on the portal; without an account its steward records it at a visit. A
        # 免申即享 delivery is generated straight into review: nobody applied.
        applicant = None if plan.channel == PushChannel.AUTO else firm.member or steward
        application_note = ""
        steps: list[tuple[str, datetime, User | None, str]] = []
        label = str(PushChannel(plan.channel).label)  # the event note of guanjia.policies.delivery
        if plan.channel == PushChannel.AUTO:
            steps.append((APPLIED, _at(days[APPLIED], rng), keeper, label))
        else:
            steps.append((PUSHED, _at(days[PUSHED], rng), pushed_by, label))
            if APPLIED in days:
                application_note = rng.choice(APPLICATION_NOTES)
                prefix = "" if firm.member is not None else "服务管家代企业申请："
                steps.append((APPLIED, _at(days[APPLIED], rng), applicant, prefix + application_note))
        amount = self._amount(spec) if DISBURSED in days else None
        reason = rng.choice(REJECT_REASONS) if REJECTED in days else ""
        for state, note in (
            (APPROVED, rng.choice(APPROVAL_NOTES)),
            (DISBURSED, f"已拨付{amount}万元"),
            (REJECTED, reason),
        ):
            if state in days:
                steps.append((state, _at(days[state], rng), keeper, note))
        # Strictly later, step after step (two steps on one day: the later one an hour or so after).
        for index in range(1, len(steps)):
            to, at, by, text = steps[index]
            if at <= steps[index - 1][1]:
                steps[index] = (to, steps[index - 1][1] + timedelta(minutes=rng.randint(20, 90)), by, text)
        plan.steps = steps
        times = {state: at for state, at, _by, _note in steps}
        approved = times.get(APPROVED)
        return Delivery(
            item=item.item,
            enterprise=enterprise,
            zone_id=enterprise.zone_id,
            status=steps[-1][0],
            channel=plan.channel,
            pushed_by=pushed_by,
            pushed_at=steps[0][1],
            applied_at=times.get(APPLIED),
            applied_by=applicant if APPLIED in times else None,
            application_note=application_note,
            approved_at=approved,
            approved_by=keeper if approved else None,
            disburse_due=add_workdays(approved.astimezone(BEIJING).date(), spec.within) if approved else None,
            disbursed_on=days.get(DISBURSED),
            amount=amount,
            rejected_at=times.get(REJECTED),
            reject_reason=reason,
            updated_at=steps[-1][1],
            version=len(steps),
        )

    def _amount(self, spec: ItemSpec) -> Decimal:
        rng = self.rng
        if spec.max_amount is None:  # a tax benefit: the tax relieved
            return Decimal(rng.randrange(20, 1600, 5)) / 10
        top = Decimal(spec.max_amount)
        share = Decimal(rng.randrange(30, 101, 5)) / 100
        return max((top * share).quantize(Decimal("0.1")), Decimal("0.5"))


def _city(units: dict[str, OrgUnit]) -> OrgUnit | None:
    return next((unit for unit in units.values() if unit.kind == OrgUnit.Kind.CITY), None)


def add_demo_policies(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    """demo_built hook: the policy library, matched benefits and deliveries, in the demo's transaction."""
    city = _city(units)
    like = User.objects.filter(username=DEMO_STEWARD).first()
    if city is None or like is None:
        return
    demo = _PoliciesDemo(_own_stream(rng), beijing_today(), units, city)
    departments = demo.departments(like)
    items = demo.build_library(departments)
    plans = demo.plan_deliveries(items, demo.firms())
    demo.write_deliveries(plans)
    audit.record(
        None,
        "policies.demo_load",
        summary=f"装入政策直达演示数据：{len({i.policy.pk for i in items})} 项政策、{len(items)} 个兑现事项、"
        f"{len(plans)} 条兑现记录",
        detail={"policies": len({i.policy.pk for i in items}), "items": len(items), "deliveries": len(plans)},
    )
