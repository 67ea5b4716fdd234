"""Demo pools: adult critical illness (100 conditions), senior cancer, children."""

import csv
import datetime as dt
from pathlib import Path

from pools.models import BenefitBand, Condition, Pool
from pools.rule_changes import record_first_version

CATALOGUE = Path(__file__).parent / "data" / "critical_illnesses.csv"

DEMO_POOLS = [
    {
        "slug": "critical-illness-adults",
        "name": "Critical illness, adults",
        "name_zh": "成人大病互助",
        "min_join_age_days": 30,
        "max_join_age_years": 59,
        "exit_age_years": 60,
        "bands": [(0, 39, 30_000_000), (40, 59, 10_000_000)],
        "categories": None,  # all 100 conditions
    },
    {
        "slug": "cancer-seniors",
        "name": "Cancer, seniors",
        "name_zh": "老年防癌互助",
        "min_join_age_days": 50 * 365,
        "max_join_age_years": 70,
        "exit_age_years": 80,
        "bands": [(50, 80, 10_000_000)],
        "categories": {"Cancer"},
    },
    {
        "slug": "critical-illness-children",
        "name": "Critical illness, children",
        "name_zh": "少儿大病互助",
        "min_join_age_days": 30,
        "max_join_age_years": 17,
        "exit_age_years": 18,
        "bands": [(0, 17, 30_000_000)],
        "categories": None,
    },
]


def load_catalogue():
    with CATALOGUE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            Condition.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name"],
                    "name_zh": row["name_zh"],
                    "category": row["category"],
                },
            )


def seed(ctx):
    load_catalogue()
    ctx["pools"] = {}
    for spec in DEMO_POOLS:
        spec = dict(spec)
        bands, categories = spec.pop("bands"), spec.pop("categories")
        pool, created = Pool.objects.get_or_create(slug=spec.pop("slug"), defaults=spec)
        if created:
            for low, high, payout in bands:
                BenefitBand.objects.create(
                    pool=pool, min_age=low, max_age=high, payout_cents=payout
                )
            conditions = Condition.objects.all()
            if categories:
                conditions = conditions.filter(category__in=categories)
            pool.conditions.set(conditions)
            # In force from long before the demo's history (its memberships and batches).
            record_first_version(pool=pool, effective_on=pool.today() - dt.timedelta(days=3650))
        ctx["pools"][pool.slug] = pool
