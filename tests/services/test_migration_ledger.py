"""Migration 0009 upgrades a database of the previous schema without loss: coverage
periods from each beneficiary's row and history, contract price tables copied from the
plan's, the ledger's first month; and it downgrades back. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine, MetaData, insert, select

from data.db import migrate

AT = datetime(2026, 1, 5, 12, tzinfo=UTC)


def _to(engine: Engine, revision: str, *, down: bool = False) -> None:
    migrate(engine, revision, down=down)


def _old_rows(engine: Engine) -> dict[str, int]:
    meta = MetaData()
    with engine.begin() as conn:
        meta.reflect(conn)
        t = meta.tables

        def add(table: str, **values) -> int:  # noqa: ANN003
            query = insert(t[table]).values(**values).returning(t[table].c.id)
            return conn.execute(query).scalar_one()

        op = add(
            "operator",
            name="Operadora",
            ans_registration="421839",
            cnpj="11222333000181",
            bank_code="001",
            pix_key="pix@example.com",
            city="São Paulo",
            card_prefix="0001",
            protocol_template="{ans}{date:%Y%m%d}{seq:06d}",
            protocol_deadline_days=7,
        )
        plans = [
            add(
                "plan",
                operator_id=op,
                code=code,
                name=code,
                ans_registration=f"4{i}0000000",
                segment="Odontológico",
                coverage_groups=[],
                general_conditions="",
            )
            for i, code in enumerate(("ESS", "TOP"))
        ]
        for plan in plans:
            table = add("price_table", plan_id=plan, valid_from=date(2025, 1, 1), valid_to=None)
            for band in range(1, 11):
                conn.execute(
                    insert(t["price_band"]).values(
                        price_table_id=table,
                        band=band,
                        min_age=0,
                        max_age=None,
                        price=4990 + 100 * band,  # Money: integer cents
                    )
                )
        companies = []
        for code in ("20001", "20002"):
            company = add(
                "company",
                operator_id=op,
                code=code,
                document="11222333000181",
                document_type="CNPJ",
                name=f"Empresa {code}",
                contract_start=date(2024, 3, 10),
                status="active",
                cutoff_day=20,
                due_day=10,
                retroactive_months=3,
                fine_pct=200,
                monthly_interest_pct=100,
                overdue_update_limit_days=59,
                dependents_follow_holder=True,
                eligibility={},
            )
            companies.append(company)
            for plan in plans:
                conn.execute(
                    insert(t["contracted_plan"]).values(
                        company_id=company, plan_id=plan, start_date=date(2024, 3, 10)
                    )
                )
        a, b = companies

        def person(card: str, **values) -> int:  # noqa: ANN003
            base = dict(
                company_id=a,
                plan_id=plans[0],
                card_number=card,
                holder_id=None,
                relationship_code=1,
                name=f"Pessoa {card}",
                cpf=None,
                birth_date=date(1990, 1, 1),
                sex="F",
                mother_name="Mãe",
                effective_date=date(2025, 2, 1),
                status="active",
                created_at=AT,
                updated_at=AT,
                is_student=False,
            )
            base.update(values)
            return add("beneficiary", **base)

        plain = person("1")
        excluded = person("2", status="inactive", exclusion_date=date(2025, 9, 15))
        # Moved to company B on 2025-06-01 with plan TOP: the row holds the newest state.
        moved = person("3", company_id=b, plan_id=plans[1])
        upgraded = person("4", plan_id=plans[1])
        protocol = add(
            "protocol",
            company_id=a,
            number="1",
            kind="transfer",
            subject="s",
            description="",
            status="closed",
            opened_at=AT,
            deadline=date(2026, 1, 14),
        )

        def movement(bid: int, kind: str, day: date, **values) -> None:  # noqa: ANN003
            add(
                "movement",
                company_id=values.pop("company_id", a),
                beneficiary_id=bid,
                kind=kind,
                channel="individual",
                effective_date=day,
                received_at=AT,
                billing_month=date(2026, 2, 1),
                is_retroactive=False,
                protocol_id=protocol,
                **values,
            )

        movement(
            moved,
            "transfer",
            date(2025, 6, 1),
            company_id=b,
            from_company_id=a,
            old_plan_id=plans[0],
            new_plan_id=plans[1],
        )
        movement(
            upgraded, "plan_change", date(2025, 4, 1), old_plan_id=plans[0], new_plan_id=plans[1]
        )
        add(
            "invoice",
            company_id=a,
            billing_month=date(2025, 5, 1),
            due_date=date(2025, 5, 10),
            amount=0,
            status="paid",
            issued_at=AT,
        )
    return {
        "a": a,
        "b": b,
        "ess": plans[0],
        "top": plans[1],
        "plain": plain,
        "excluded": excluded,
        "moved": moved,
        "upgraded": upgraded,
    }


def test_0009_carries_an_existing_database_over_and_back(engine: Engine):
    _to(engine, "0008_mail_delivery", down=True)
    ids = _old_rows(engine)
    _to(engine, "head")

    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        t = meta.tables
        cp = t["coverage_period"]
        periods = {
            bid: [
                (row.company_id, row.plan_id, row.start_date, row.end_date, row.kind)
                for row in conn.execute(
                    select(cp).where(cp.c.beneficiary_id == bid).order_by(cp.c.start_date)
                )
            ]
            for bid in (ids["plain"], ids["excluded"], ids["moved"], ids["upgraded"])
        }
        a, b, ess, top = ids["a"], ids["b"], ids["ess"], ids["top"]
        start = date(2025, 2, 1)
        assert periods[ids["plain"]] == [(a, ess, start, None, "regular")]
        assert periods[ids["excluded"]] == [(a, ess, start, date(2025, 9, 15), "regular")]
        assert periods[ids["moved"]] == [
            (a, ess, start, date(2025, 6, 1), "regular"),
            (b, top, date(2025, 6, 1), None, "regular"),
        ]
        assert periods[ids["upgraded"]] == [
            (a, ess, start, date(2025, 4, 1), "regular"),
            (a, top, date(2025, 4, 1), None, "regular"),
        ]
        pt = t["price_table"]
        contract_tables = conn.execute(
            select(pt.c.plan_id, pt.c.contracted_plan_id, pt.c.kind, pt.c.valid_from).where(
                pt.c.contracted_plan_id.is_not(None)
            )
        ).all()
        assert len(contract_tables) == 4  # 2 companies x 2 plans
        assert {r.kind for r in contract_tables} == {"bands"}
        copied = (
            conn.execute(
                select(t["price_band"].c.price)
                .join(pt, pt.c.id == t["price_band"].c.price_table_id)
                .where(pt.c.contracted_plan_id.is_not(None), t["price_band"].c.band == 10)
            )
            .scalars()
            .all()
        )
        assert {Decimal(int(c)) for c in copied} == {Decimal(5990)}
        starts = dict(conn.execute(select(t["company"].c.id, t["company"].c.billing_start)).all())
        assert starts == {a: date(2025, 5, 1), b: date(2024, 3, 1)}
        assert set(conn.execute(select(t["movement"].c.state)).scalars().all()) == {"applied"}

    _to(engine, "0008_mail_delivery", down=True)
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        assert "coverage_period" not in meta.tables
        assert conn.execute(select(meta.tables["beneficiary"].c.id)).scalars().all()
        pt = meta.tables["price_table"]
        assert len(conn.execute(select(pt.c.id)).all()) == 2  # the plan's own tables stay
    _to(engine, "head")
