"""The demo company: a Hunan manufacturer with a cement plant (HN01) and an automotive stamping plant
(HN02), one named person per position per site. A larger company (`sites(n)`, for `bench/cycle.py`)
adds plants HN03… alternating the two kinds, their people named by the generator below.

Used by `cms demo` and by the tests (fixture `company`); built through the org
services as the administrator, so it leaves the same audit evidence as real use.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org
from cms_workflows.org.models import Position

SITES = [("HN01", "长沙水泥厂", "Changsha cement plant"), ("HN02", "株洲冲压厂", "Zhuzhou stamping plant")]
# the further plants of a larger demo company, HN03 on; odd codes are cement plants, even ones stamping plants
MORE_SITES = [
    ("湘潭水泥厂", "Xiangtan cement plant"), ("衡阳冲压厂", "Hengyang stamping plant"),
    ("岳阳水泥厂", "Yueyang cement plant"), ("常德冲压厂", "Changde stamping plant"),
    ("益阳水泥厂", "Yiyang cement plant"), ("郴州冲压厂", "Chenzhou stamping plant"),
    ("永州水泥厂", "Yongzhou cement plant"), ("怀化冲压厂", "Huaihua stamping plant"),
    ("娄底水泥厂", "Loudi cement plant"), ("邵阳冲压厂", "Shaoyang stamping plant"),
    ("耒阳水泥厂", "Leiyang cement plant"), ("醴陵冲压厂", "Liling stamping plant"),
    ("冷水江水泥厂", "Lengshuijiang cement plant"), ("浏阳冲压厂", "Liuyang stamping plant"),
    ("汨罗水泥厂", "Miluo cement plant"), ("宁乡冲压厂", "Ningxiang stamping plant"),
    ("张家界水泥厂", "Zhangjiajie cement plant"), ("吉首冲压厂", "Jishou stamping plant"),
]
MAX_SITES = len(SITES) + len(MORE_SITES)
COMPANY_WIDE_USERS = [
    ("gm", "王建国", "general_manager"),
    ("doccontrol", "李秀英", "document_controller"),
    ("verifier", "赵立新", "external_verifier"),
    # company-level holders of the carbon policy's route: company documents are decided by
    # company-wide holders, never by a plant's (access: a site assignment grants nothing at "*")
    ("carbon.lead", "周志强", "strategy_manager"),
    # the carbon management office's deputy head: reviews the company-wide reports the lead drafts (the
    # route's review step needs a holder at "*" who is not the author: carbon review report, minutes)
    ("carbon.deputy", "傅慧", "strategy_manager"),
    ("compliance.lead", "吴丽娟", "compliance_officer"),
    ("legal.lead", "郑海涛", "legal_specialist"),
    # carbon trading is done for the company, the key emitting unit, in its registry accounts
    ("carbon.trader", "孙佳怡", "carbon_trader"),
]
# auditors: (username, name, home position, home site)
AUDITORS = [
    ("auditor1", "陈晓梅", "energy_engineer", "HN01"),
    ("auditor2", "刘伟", "process_quality_engineer", "HN02"),
]
PER_SITE_EXCLUDED = {"general_manager", "document_controller", "internal_auditor", "external_verifier", "system_admin", "system_agent"}
# the people holding each per-site position: (HN01, HN02); fixed, so every run names the same people
PER_SITE_NAMES = {
    "strategy_manager": ("张明辉", "黄振华"),
    "carbon_accountant": ("杨静", "何雪芳"),
    "carbon_trader": ("林子涵", "罗俊杰"),
    "project_manager": ("马国栋", "梁文斌"),
    "training_specialist": ("宋雅婷", "谢敏"),
    "energy_engineer": ("徐卫东", "韩磊"),
    "energy_data_admin": ("胡玉兰", "朱鹏飞"),
    "emission_monitor": ("高翔", "郭丽萍"),
    "compliance_officer": ("唐玉洁", "冯建军"),
    "env_specialist": ("于海燕", "董浩然"),
    "process_engineer": ("萧永刚", "程亮"),
    "maintenance_engineer": ("曹德明", "袁志刚"),
    "lowcarbon_rd_engineer": ("彭博", "吕欣怡"),
    "lca_engineer": ("苏婉清", "卢宇航"),
    "product_rd_engineer": ("蒋天宇", "蔡梦琪"),
    "green_supply_manager": ("贾春燕", "丁国强"),
    "purchaser": ("魏红梅", "薛文涛"),
    "legal_specialist": ("叶倩", "阎世杰"),
    "purchase_planner": ("余凤英", "潘家豪"),
    "quality_system_engineer": ("杜建平", "戴晓燕"),
    "iqc_inspector": ("夏金凤", "钟伟民"),
    "process_quality_engineer": ("汪成刚", "田慧敏"),
}
# HN02's energy data administrator from 1 July of the demo year (the handover in demo/__init__.py)
SUCCESSOR = ("energy_data_admin2.hn02", "邓思远")
# names for a per-site position added after this table was written: surname + given name, in order, skipping taken ones
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN_NAMES = ("文华", "秀兰", "俊", "桂芳", "志明", "婷", "红军", "淑珍", "家乐", "宏伟", "莉", "国庆")
# given names for the people of the further plants (paired with the surnames in a fixed shuffled order)
MORE_GIVEN_NAMES = ("建华", "丽娟", "海波", "春梅", "永强", "晓燕", "立新", "玉梅", "志刚", "秋菊", "卫国", "雪梅",
                    "振宇", "慧敏", "德华", "美玲", "子轩", "欣怡", "浩然", "诗涵", "国平", "桂英", "少华", "红霞")
COMPANY_NAME = ("湖南示范制造有限公司", "Hunan Demo Manufacturing Co., Ltd.")


def sites(count: int = 2) -> list[tuple[str, str, str]]:
    """The company's plants: (code, Chinese name, English name); 2 is the demo company, up to 20."""
    if count < 2 or count % 2 or count > MAX_SITES:
        raise ValueError(f"the demo company has an even number of plants, 2 to {MAX_SITES}: {count}")
    more = [(f"HN{i:02d}", zh, en) for i, (zh, en) in enumerate(MORE_SITES, start=len(SITES) + 1)]
    return (SITES + more)[:count]


def kind(site: str) -> str:
    """A plant's kind: "cement" (HN01, HN03, …, like HN01) or "stamping" (HN02, HN04, …, like HN02)."""
    return "cement" if int(site[2:]) % 2 else "stamping"


def data_admin(site: str) -> str:
    """Who submits a plant's data in the demo year (HN02's first data administrator leaves on 30 June)."""
    return SUCCESSOR[0] if site == "HN02" else f"energy_data_admin.{site.lower()}"


def holder(position: str, site: str) -> str:
    """The username of a plant's holder of a per-site position."""
    return f"{position}.{site.lower()}"


def _taken_names() -> set[str]:
    return ({name for _u, name, _p in COMPANY_WIDE_USERS} | {name for _u, name, _p, _s in AUDITORS}
            | {name for pair in PER_SITE_NAMES.values() for name in pair} | {SUCCESSOR[1]})


def _spare_names():
    taken = _taken_names()
    for given in GIVEN_NAMES:
        for surname in SURNAMES:
            if surname + given not in taken:
                yield surname + given


def _more_names(taken: set[str]):
    """Names for the further plants' people: every surname with every further given name, in a fixed
    shuffled order, skipping names already held."""
    import random

    names = [surname + given for surname in SURNAMES for given in MORE_GIVEN_NAMES]
    random.Random(11).shuffle(names)
    for name in names:
        if name not in taken:
            taken.add(name)
            yield name


def per_site_positions(session) -> list[Position]:
    return [p for p in org_queries.list_positions(session) if p.code not in PER_SITE_EXCLUDED]


def seed(session, admin: str = "admin", valid_from: date | None = None, *, site_count: int = 2) -> dict[str, list[str]]:
    """Create the sites and users; returns {position: [usernames]}."""
    valid_from = valid_from or date(session.clock.today().year - 1, 1, 1)
    holders: dict[str, list[str]] = {}

    def add(username, name, position, site):
        if not any(u.username == username for u in org_queries.list_users(session)):
            org.create_user(session, admin, username, name, f"{username}@demo.example.cn")
        org.assign(session, admin, username, position, site, valid_from=valid_from)
        holders.setdefault(position, []).append(username)

    plants = sites(site_count)
    for code, zh, en in plants:
        org.create_site(session, admin, code, zh, en)
    for username, name, position in COMPANY_WIDE_USERS:
        add(username, name, position, "*")
    spare, used = _spare_names(), set()
    two_plants = {}
    for position in per_site_positions(session):
        two_plants[position.code] = PER_SITE_NAMES.get(position.code) or (next(spare), next(spare))
        used.update(two_plants[position.code])
    more = _more_names(_taken_names() | used)
    for position in per_site_positions(session):
        names = [*two_plants[position.code], *(next(more) for _plant in plants[len(SITES):])]
        for (code, _zh, _en), name in zip(plants, names):
            add(holder(position.code, code), name, position.code, code)
    for username, name, home_position, home_site in AUDITORS:
        add(username, name, "internal_auditor", "*")
        org.assign(session, admin, username, home_position, home_site, valid_from=valid_from)
        holders.setdefault(home_position, []).append(username)
    return holders


def give_credentials(db, usernames: list[str], out: Path) -> None:
    """Every demo user gets a generated password, set by the administrator (each an audited reset), so
    that whoever tries the demo can sign in as any of them (`cms login`). The passwords go to a file
    only its owner can read; a real installation hands each person their own."""
    import os

    from cms_workflows.identity import service as identity

    passwords = {name: identity.generated_password() for name in sorted(set(usernames) | {"admin"})}
    with db.unit_of_work() as uow:
        for name, password in passwords.items():
            identity.set_password(uow, "admin", name, password)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.writelines(f"{name}\t{password}\n" for name, password in passwords.items())
