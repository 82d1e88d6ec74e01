"""Authorization decisions/s through `access` against bare Casbin on the same model and policy.

10,000 users in 20 sites, each holding one or two positions (a site or company-wide), the
real policy files. Prints medians of several runs and the ratio, and checks that both
decide alike on every request Casbin is timed on.

    python bench/authz.py [--users 10000] [--requests 100000] [--casbin-requests 1000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from bench.common import fmt, median_rate, scratch_database  # noqa: E402
from cms_workflows import access  # noqa: E402
from cms_workflows.access import AccessControl, Resource  # noqa: E402
from cms_workflows.core.errors import AccessDenied  # noqa: E402
from cms_workflows.org.models import Assignment, Site, User  # noqa: E402


def populate(db, users: int, sites: int, rng: random.Random) -> list[tuple[str, str, str]]:
    policy = access.get_access().policy
    positions = sorted(policy.permissions)
    site_codes = [f"S{i:02d}" for i in range(sites)]
    links = []
    # fixture rows for the benchmark, written in bulk straight to the tables (not commands, so no events)
    with db.engine.begin() as session:
        session.execute(insert(Site), [{"code": c, "name_zh": c, "name_en": c} for c in site_codes])
        session.execute(insert(User), [{"username": f"u{i:05d}", "display_name": f"用户{i}", "active": True} for i in range(users)])
        ids = {u: i for i, u in session.execute(User.__table__.select().with_only_columns(User.id, User.username))}
        rows = []
        for i in range(users):
            username = f"u{i:05d}"
            for _ in range(rng.choice((1, 1, 2))):
                position = rng.choice(positions)
                site = "*" if rng.random() < 0.05 else rng.choice(site_codes)
                if (username, position, site) in links:
                    continue
                links.append((username, position, site))
                rows.append({"user_id": ids[username], "position_code": position, "site_code": site, "valid_from": date(2020, 1, 1)})
        session.execute(insert(Assignment), rows)
    return links


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--casbin-requests", type=int, default=1_000)
    args = parser.parse_args()
    rng = random.Random(7)

    db = scratch_database()
    links = populate(db, args.users, args.sites, rng)
    policy = access.get_access().policy
    vocabulary = [(obj, act) for obj, acts in policy.vocabulary.items() for act in acts]
    sites = [f"S{i:02d}" for i in range(args.sites)]
    held: dict[str, list[tuple[str, str]]] = {}
    for user, position, site in links:
        held.setdefault(user, []).append((position, site))
    perms = {p: sorted(t) for p, t in policy.permissions.items()}
    requests = []
    for _ in range(args.requests):
        user = f"u{rng.randrange(args.users):05d}"
        if rng.random() < 0.5:  # something the user's position allows, at a site where they hold it
            position, site = rng.choice(held[user])
            obj, act = rng.choice(perms[position])
            site = rng.choice(sites) if site == "*" else site
        else:  # anything, anywhere: mostly refused
            (obj, act), site = rng.choice(vocabulary), rng.choice(sites)
        requests.append((user, act, Resource(obj, site=site)))
    print(f"policy: {policy.summary()['lines']} lines, {len(policy.permissions)} positions; "
          f"{args.users:,} users, {len(links):,} assignments, {args.sites} sites")

    control = AccessControl(policy, access.directory())
    with db.read() as session:
        def check_all():  # access.can(): a Grant or a (not raised) denial
            check = control.check
            for user, act, res in requests:
                check(session, user, act, res)

        def require_all():  # access.require(): raises AccessDenied on a refusal
            decide = control.decide
            for user, act, res in requests:
                try:
                    decide(session, user, act, res)
                except AccessDenied:
                    pass

        start = time.perf_counter()
        control.invalidate()
        check_all()
        cold = args.requests / (time.perf_counter() - start)
        warm, _ = median_rate(check_all, args.requests)
        raising, _ = median_rate(require_all, args.requests)
        allowed = sum(control.table(session, u).for_site(r.site).get((r.type, a)) is not None for u, a, r in requests)

    start = time.perf_counter()
    enforcer = policy.reference_enforcer(links)
    load = time.perf_counter() - start
    sample = requests[: args.casbin_requests]

    def casbin_all():
        for user, act, res in sample:
            enforcer.enforce(user, res.site, res.type, act)

    bare, _ = median_rate(casbin_all, len(sample), repeats=3)
    with db.read() as session:
        disagreements = sum(
            enforcer.enforce(u, r.site, r.type, a) != (control.table(session, u).for_site(r.site).get((r.type, a)) is not None)
            for u, a, r in sample
        )
    print(f"access.can (compiled table), warm cache: {fmt(warm)} decisions/s (median of 5 x {args.requests:,}); "
          f"{allowed:,} of {args.requests:,} allowed")
    print(f"access.require (raises AccessDenied on each refusal), warm cache: {fmt(raising)} decisions/s")
    print(f"access, cold cache (each user's table loaded from the database once): {fmt(cold)} decisions/s")
    print(f"bare casbin Enforcer.enforce: {fmt(bare)} decisions/s (median of 3 x {len(sample):,}); "
          f"loading {len(links):,} grouping lines: {load:.2f} s")
    print(f"ratio warm/bare: {warm / bare:,.0f}x   cold/bare: {cold / bare:,.0f}x   "
          f"disagreements on the casbin sample: {disagreements}")
    print(f"goal: >= 100,000 decisions/s and >= 100x bare casbin: {'met' if warm >= 100_000 and warm / bare >= 100 else 'NOT met'}")
    if disagreements:
        sys.exit(1)


if __name__ == "__main__":
    main()
