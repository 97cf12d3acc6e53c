"""Documents on demand, the pure rules: verification codes, income-tax figures, the
discharge declaration (Lei 12.007/2009) and the permanence letter's facts."""

from __future__ import annotations

import itertools
import random
from datetime import date
from decimal import Decimal

import pytest

from services.rules.issued_documents import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CoverageFact,
    InvoiceFact,
    PaidLine,
    Person,
    code_is_valid,
    code_problem,
    discharge_check,
    format_code,
    income_tax_figures,
    mask_name,
    months_text,
    new_code,
    normalize_code,
    permanence_facts,
    waiting_rows,
    whole_months,
)

D = Decimal

# ---------------------------------------------------------------- codes


def test_the_alphabet_has_no_character_people_confuse():
    assert len(CODE_ALPHABET) == len(set(CODE_ALPHABET)) == 30
    assert not set("01ILOU") & set(CODE_ALPHABET)


def test_new_codes_are_valid_random_and_shown_in_groups_of_four():
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == CODE_LENGTH and code_is_valid(code)
        shown = format_code(code)
        assert shown.count("-") == 2 and shown.replace("-", "") == code
        assert code_problem(shown) is None


def test_a_code_is_read_whatever_the_case_spaces_hyphens_and_dots():
    code = new_code(random.Random(7).randrange)
    typed = f"  {code[:4].lower()} - {code[4:8]}.{code[8:].lower()} "
    assert normalize_code(typed) == code
    assert code_problem(typed) is None


def test_every_single_wrong_character_and_every_adjacent_swap_is_caught():
    code = new_code(random.Random(11).randrange)
    for i, ch in itertools.product(range(CODE_LENGTH), CODE_ALPHABET):
        if ch != code[i]:
            assert not code_is_valid(code[:i] + ch + code[i + 1 :])
    for i in range(CODE_LENGTH - 1):
        a, b = code[i], code[i + 1]
        if a != b:
            swapped = code[:i] + b + a + code[i + 2 :]
            # Luhn mod N misses only the swap of the pair that sums to N-1 in value.
            if CODE_ALPHABET.index(a) + CODE_ALPHABET.index(b) != len(CODE_ALPHABET) - 1:
                assert not code_is_valid(swapped)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Informe o código"),
        ("ABCD-EFGH", "12 letras e números"),
        ("ABCD-EFGH-IJKO", "não tem I, O"),
        ("2222-2222-2223", "não confere"),
    ],
)
def test_a_typed_code_that_cannot_be_one_says_why(typed: str, says: str):
    problem = code_problem(typed)
    assert problem is not None and says in problem


def test_names_are_masked_to_first_name_and_initials():
    assert mask_name("Ana Beatriz de Souza") == "Ana B. S."
    assert mask_name("Pedro") == "Pedro"
    assert mask_name("  ") == ""


# ---------------------------------------------------------------- income tax

HOLDER = Person(1, "Ana Souza", "52998224725", 1)
SPOUSE = Person(2, "Carlos Lima", "11144477735", 3)
CHILD = Person(3, "Pedro Souza", None, 4)


def test_each_persons_amount_is_the_net_of_its_paid_lines():
    paid = [
        PaidLine(1, D("100.00")),
        PaidLine(1, D("100.00")),
        PaidLine(2, D("80.00")),
        PaidLine(2, D("-20.00")),  # a credit
        PaidLine(1, D("15.50")),  # a retroactive line
    ]
    f = income_tax_figures(2025, HOLDER, [SPOUSE, CHILD], paid)
    assert f.holder.amount == D("215.50")
    assert [(d.person.id, d.amount) for d in f.dependents] == [(2, D("60.00"))]
    assert f.total == D("275.50")


def test_a_credit_larger_than_the_charges_reads_as_zero_never_negative():
    f = income_tax_figures(2025, HOLDER, [SPOUSE], [PaidLine(1, D("-50")), PaidLine(2, D("10"))])
    assert f.holder.amount == D("0.00")
    assert f.total == D("10.00")


def test_lines_of_people_outside_the_family_are_ignored():
    f = income_tax_figures(2025, HOLDER, [], [PaidLine(1, D("10")), PaidLine(99, D("500"))])
    assert f.total == D("10.00") and f.dependents == []


# ---------------------------------------------------------------- discharge


def _inv(i: int, due: date, status: str = "paid", amount: str = "100.00") -> InvoiceFact:
    return InvoiceFact(
        i, due.replace(day=1), due, D(amount), status, due if status == "paid" else None
    )


TODAY = date(2026, 3, 15)


def test_a_closed_year_with_every_invoice_paid_may_be_declared():
    invoices = [_inv(m, date(2025, m, 10)) for m in range(1, 13)]
    invoices.append(_inv(13, date(2025, 6, 10), "cancelled"))  # not a debt
    invoices.append(_inv(14, date(2026, 1, 10), "open"))  # next year: not this one's
    c = discharge_check(2025, invoices, TODAY)
    assert c.eligible and c.problem is None
    assert [i.id for i in c.invoices] == list(range(1, 13))
    assert c.total_paid == D("1200.00") and c.open_invoices == []


def test_an_open_invoice_of_the_year_or_of_an_earlier_year_blocks_it_and_is_listed():
    invoices = [_inv(1, date(2025, 1, 10)), _inv(2, date(2025, 2, 10), "open")]
    c = discharge_check(2025, invoices, TODAY)
    assert not c.eligible and "1 fatura(s) em aberto" in (c.problem or "")
    assert [i.id for i in c.open_invoices] == [2]
    earlier = [_inv(1, date(2025, 1, 10)), _inv(2, date(2024, 12, 10), "open")]
    c = discharge_check(2025, earlier, TODAY)
    assert not c.eligible and [i.id for i in c.open_invoices] == [2]


def test_the_year_must_be_over_and_have_had_invoices():
    c = discharge_check(2026, [_inv(1, date(2026, 1, 10))], TODAY)
    assert not c.eligible and "01/01/2027" in (c.problem or "")
    c = discharge_check(2024, [_inv(1, date(2025, 1, 10))], TODAY)
    assert not c.eligible and "Não há faturas com vencimento em 2024" in (c.problem or "")


def test_the_year_is_by_due_date_not_billing_month():
    # December's invoice due in January belongs to the next year's declaration.
    dec = InvoiceFact(1, date(2024, 12, 1), date(2025, 1, 10), D("10"), "open", None)
    c = discharge_check(2024, [dec, _inv(2, date(2024, 11, 10))], TODAY)
    assert c.eligible and [i.id for i in c.invoices] == [2]


# ---------------------------------------------------------------- permanence


def _p(start: date, end: date | None, plan: str = "Essencial", kind: str = "regular"):  # noqa: ANN202
    return CoverageFact(plan, "123", "Odontológico", start, end, kind)


def test_touching_periods_are_one_continuous_coverage_and_a_gap_starts_another():
    periods = [
        _p(date(2020, 1, 1), date(2021, 1, 1)),
        _p(date(2022, 3, 1), date(2024, 5, 1)),  # a gap: coverage starts again here
        _p(date(2024, 5, 1), None, "Premium"),  # a plan change: continuous
    ]
    f = permanence_facts(periods, None, date(2026, 3, 15))
    assert f is not None
    assert f.stretch_start == date(2022, 3, 1)
    assert f.last_day is None and not f.ended
    assert f.current.plan_name == "Premium"
    assert f.months == whole_months(date(2022, 3, 1), date(2026, 3, 16)) == 48
    assert f.waiting is None


def test_an_ended_coverage_states_its_last_day():
    f = permanence_facts([_p(date(2024, 1, 15), date(2025, 7, 1))], {}, date(2026, 1, 1))
    assert f is not None
    assert f.last_day == date(2025, 6, 30) and f.ended
    assert f.months == 17  # 15/01/2024 to 30/06/2025
    assert months_text(17) == "1 ano e 5 meses"
    assert months_text(0) == "0 meses" and months_text(24) == "2 anos"


def test_a_scheduled_end_is_not_yet_ended():
    f = permanence_facts([_p(date(2024, 1, 1), date(2026, 6, 1))], None, date(2026, 3, 15))
    assert f is not None and f.last_day == date(2026, 5, 31) and not f.ended


def test_no_period_no_letter():
    assert permanence_facts([], None, date(2026, 1, 1)) is None


def test_waiting_periods_served_running_exempt_or_cut_short():
    stored = {
        "Urgência": None,
        "Diagnóstico": "2025-01-30",
        "Prótese": "2026-06-28",
    }
    rows = {r.group: r for r in waiting_rows(stored, date(2026, 3, 15), None) or []}
    assert rows["Urgência"].text == "Isenta"
    assert rows["Diagnóstico"].text == "Cumprida em 30/01/2025"
    assert rows["Prótese"].text == "Em curso até 28/06/2026"
    cut = {r.group: r for r in waiting_rows(stored, date(2026, 3, 15), date(2026, 2, 28)) or []}
    assert cut["Prótese"].status == "Não cumprida"
    assert cut["Diagnóstico"].status == "Cumprida"
    assert waiting_rows(None, date(2026, 1, 1), None) is None
