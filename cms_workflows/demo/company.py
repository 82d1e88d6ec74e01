"""The demo company: two plants of a Hunan manufacturer, one user per position per site.

Used by `cms demo` and by the tests (fixture `company`); built through the org
services as the administrator, so it leaves the same audit evidence as real use.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org
from cms_workflows.org.models import Position

SITES = [("HN01", "长沙工厂", "Changsha plant"), ("HN02", "株洲工厂", "Zhuzhou plant")]
COMPANY_WIDE_USERS = [
    ("gm", "王总经理", "general_manager"),
    ("doccontrol", "李文控", "document_controller"),
    ("verifier", "赵核查", "external_verifier"),
    # company-level holders of the carbon policy's route: company documents are decided by
    # company-wide holders, never by a plant's (access: a site assignment grants nothing at "*")
    ("carbon.lead", "周碳管", "strategy_manager"),
    ("compliance.lead", "吴合规", "compliance_officer"),
    ("legal.lead", "郑法务", "legal_specialist"),
    # carbon trading is done for the company, the key emitting unit, in its registry accounts
    ("carbon.trader", "孙交易", "carbon_trader"),
]
# auditors: (username, name, home position, home site)
AUDITORS = [
    ("auditor1", "陈内审", "energy_engineer", "HN01"),
    ("auditor2", "刘内审", "process_quality_engineer", "HN02"),
]
PER_SITE_EXCLUDED = {"general_manager", "document_controller", "internal_auditor", "external_verifier", "system_admin", "system_agent"}
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
COMPANY_NAME = ("湖南示范制造有限公司", "Hunan Demo Manufacturing Co., Ltd.")


def per_site_positions(session) -> list[Position]:
    return [p for p in org_queries.list_positions(session) if p.code not in PER_SITE_EXCLUDED]


def seed(session, admin: str = "admin", valid_from: date | None = None) -> dict[str, list[str]]:
    """Create the sites and users; returns {position: [usernames]}."""
    valid_from = valid_from or date(session.clock.today().year - 1, 1, 1)
    holders: dict[str, list[str]] = {}

    def add(username, name, position, site):
        if not any(u.username == username for u in org_queries.list_users(session)):
            org.create_user(session, admin, username, name, f"{username}@demo.example.cn")
        org.assign(session, admin, username, position, site, valid_from=valid_from)
        holders.setdefault(position, []).append(username)

    for code, zh, en in SITES:
        org.create_site(session, admin, code, zh, en)
    for username, name, position in COMPANY_WIDE_USERS:
        add(username, name, position, "*")
    n = 0
    for position in per_site_positions(session):
        for code, _zh, _en in SITES:
            add(f"{position.code}.{code.lower()}", f"{SURNAMES[n % len(SURNAMES)]}{position.name_zh.split('（')[0][:4]}", position.code, code)
            n += 1
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
