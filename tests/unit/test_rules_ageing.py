"""The ageing-out rule: the first day a dependent is no longer eligible by age, read as
the eligibility check reads the contract's table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rules.age_bands import age_on
from services.rules.ageing import age_limit, birthday, eligibility_end, exclusion_date_for
from services.rules.eligibility import DEFAULT_ELIGIBILITY, check_dependent_eligibility
from services.rules.errors import DomainError

TABLE = {
    "4": {"allowed": True, "max_age": 21, "student_max_age": 24},
    "6": {"allowed": True, "max_age": 18, "student_max_age": None},
    "3": {"allowed": True, "max_age": None, "student_max_age": None},
    "8": {"allowed": True, "max_age": 70, "student_max_age": None},
}


def test_a_child_loses_eligibility_on_the_22nd_birthday_with_max_age_21():
    assert eligibility_end(date(2005, 3, 10), 4, False, TABLE) == date(2027, 3, 10)


def test_a_student_child_keeps_it_until_the_student_limit():
    assert eligibility_end(date(2005, 3, 10), 4, True, TABLE) == date(2030, 3, 10)


def test_student_flag_without_a_student_limit_changes_nothing():
    assert eligibility_end(date(2005, 3, 10), 6, True, TABLE) == date(2024, 3, 10)


def test_no_limit_means_never():
    assert eligibility_end(date(1980, 1, 1), 3, False, TABLE) is None
    assert eligibility_end(date(1980, 1, 1), 1, False, TABLE) is None
    assert age_limit(99, False, TABLE) is None


def test_a_relationship_absent_from_the_table_uses_the_defaults_of_children():
    expected = DEFAULT_ELIGIBILITY[4]["max_age"] + 1
    assert eligibility_end(date(2010, 6, 1), 4, False, {}) == date(2010 + expected, 6, 1)


def test_keys_may_be_integers_as_well_as_json_strings():
    table = {4: {"allowed": True, "max_age": 20, "student_max_age": None}}
    assert eligibility_end(date(2010, 6, 1), 4, False, table) == date(2031, 6, 1)


def test_born_on_29_february_ages_on_1_march_in_common_years():
    assert birthday(date(2004, 2, 29), 22) == date(2026, 3, 1)
    assert birthday(date(2004, 2, 29), 24) == date(2028, 2, 29)
    assert eligibility_end(date(2004, 2, 29), 4, False, TABLE) == date(2026, 3, 1)


def test_the_exclusion_is_never_retroactive():
    today = date(2026, 11, 26)
    assert exclusion_date_for(date(2026, 12, 5), today) == date(2026, 12, 5)
    assert exclusion_date_for(date(2026, 10, 5), today) == today


def _eligible(birth: date, on: date, rel: int, student: bool) -> bool:
    try:
        check_dependent_eligibility(rel, age_on(birth, on), student, TABLE)
    except DomainError:
        return False
    return True


@given(
    birth=st.dates(min_value=date(1940, 1, 1), max_value=date(2020, 12, 31)),
    rel=st.sampled_from([4, 6, 8]),
    student=st.booleans(),
)
def test_the_end_is_the_first_day_the_eligibility_check_refuses(birth, rel, student):
    end = eligibility_end(birth, rel, student, TABLE)
    assert end is not None
    assert _eligible(birth, end - timedelta(days=1), rel, student)
    assert not _eligible(birth, end, rel, student)


@pytest.mark.parametrize("years", [1, 18, 22, 25])
def test_age_on_the_birthday_is_the_new_age(years):
    for birth in (date(2000, 1, 31), date(2000, 2, 29), date(2001, 12, 31)):
        day = birthday(birth, years)
        assert age_on(birth, day) == years
        assert age_on(birth, day - timedelta(days=1)) == years - 1
