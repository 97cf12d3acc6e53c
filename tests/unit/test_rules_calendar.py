"""National holidays (Lei 662/1949, Lei 6.802/1980, Lei 14.759/2023) and business days."""

from datetime import date, timedelta

import pytest
from dateutil.easter import easter as dateutil_easter  # type: ignore[import-untyped, unused-ignore]
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.calendar import (
    add_business_days,
    easter_sunday,
    is_business_day,
    national_holidays,
    next_business_day,
    previous_business_day,
)

PROPERTY = settings(max_examples=200, database=None, derandomize=True)
DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (1818, date(1818, 3, 22)),  # earliest possible
        (1943, date(1943, 4, 25)),  # latest possible
        (2000, date(2000, 4, 23)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday_of_known_years(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected


def test_easter_sunday_agrees_with_dateutil_for_four_centuries() -> None:
    for year in range(1900, 2300):
        assert easter_sunday(year) == dateutil_easter(year), year


HOLIDAYS_2025 = {
    date(2025, 1, 1): "Confraternização Universal",
    date(2025, 3, 3): "Carnaval (segunda-feira)",
    date(2025, 3, 4): "Carnaval (terça-feira)",
    date(2025, 4, 18): "Sexta-feira Santa",
    date(2025, 4, 21): "Tiradentes",
    date(2025, 5, 1): "Dia do Trabalho",
    date(2025, 6, 19): "Corpus Christi",
    date(2025, 9, 7): "Independência do Brasil",
    date(2025, 10, 12): "Nossa Senhora Aparecida",
    date(2025, 11, 2): "Finados",
    date(2025, 11, 15): "Proclamação da República",
    date(2025, 11, 20): "Dia Nacional de Zumbi e da Consciência Negra",
    date(2025, 12, 25): "Natal",
}

HOLIDAYS_2026 = {
    date(2026, 1, 1): "Confraternização Universal",
    date(2026, 2, 16): "Carnaval (segunda-feira)",
    date(2026, 2, 17): "Carnaval (terça-feira)",
    date(2026, 4, 3): "Sexta-feira Santa",
    date(2026, 4, 21): "Tiradentes",
    date(2026, 5, 1): "Dia do Trabalho",
    date(2026, 6, 4): "Corpus Christi",
    date(2026, 9, 7): "Independência do Brasil",
    date(2026, 10, 12): "Nossa Senhora Aparecida",
    date(2026, 11, 2): "Finados",
    date(2026, 11, 15): "Proclamação da República",
    date(2026, 11, 20): "Dia Nacional de Zumbi e da Consciência Negra",
    date(2026, 12, 25): "Natal",
}


@pytest.mark.parametrize(("year", "expected"), [(2025, HOLIDAYS_2025), (2026, HOLIDAYS_2026)])
def test_national_holidays_of_2025_and_2026(year: int, expected: dict[date, str]) -> None:
    assert national_holidays(year) == expected


def test_national_holidays_come_sorted_by_date() -> None:
    days = list(national_holidays(2026))
    assert days == sorted(days)


@pytest.mark.parametrize(("year", "included"), [(2022, False), (2023, False), (2024, True)])
def test_black_consciousness_day_is_a_national_holiday_from_2024(year: int, included: bool) -> None:
    assert (date(year, 11, 20) in national_holidays(year)) == included


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (date(2026, 3, 2), True),  # Monday
        (date(2026, 2, 28), False),  # Saturday
        (date(2026, 3, 1), False),  # Sunday
        (date(2026, 2, 16), False),  # Carnival Monday
        (date(2026, 2, 17), False),  # Carnival Tuesday
        (date(2026, 2, 18), True),  # Ash Wednesday
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 6, 4), False),  # Corpus Christi
        (date(2025, 11, 20), False),  # Consciência Negra, a Thursday
        (date(2023, 11, 20), True),  # a Monday before Lei 14.759/2023 applied
        (date(2026, 12, 25), False),
        (date(2026, 12, 24), True),
    ],
)
def test_business_days_are_weekdays_that_are_not_national_holidays(
    day: date, business: bool
) -> None:
    assert is_business_day(day) == business


def test_a_given_holiday_list_replaces_the_national_one() -> None:
    city_anniversary = date(2026, 1, 26)  # a Monday
    assert is_business_day(city_anniversary)
    assert not is_business_day(city_anniversary, holidays={city_anniversary})
    assert is_business_day(date(2026, 2, 16), holidays=set())


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 2), date(2026, 3, 3)),  # Monday -> Tuesday
        (date(2026, 3, 6), date(2026, 3, 9)),  # Friday -> Monday
        (date(2026, 2, 13), date(2026, 2, 18)),  # Friday before Carnival -> Ash Wednesday
        (date(2026, 4, 2), date(2026, 4, 6)),  # over Good Friday and the weekend
        (date(2025, 12, 31), date(2026, 1, 2)),  # over New Year, into the next year
        (date(2026, 11, 19), date(2026, 11, 23)),  # over Nov 20 (Friday)
    ],
)
def test_next_business_day_is_strictly_after(day: date, expected: date) -> None:
    assert next_business_day(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 3), date(2026, 3, 2)),  # Tuesday -> Monday
        (date(2026, 3, 9), date(2026, 3, 6)),  # Monday -> Friday
        (date(2026, 11, 15), date(2026, 11, 13)),  # Sunday (and holiday) -> Friday
        (date(2026, 2, 18), date(2026, 2, 13)),  # Ash Wednesday -> Friday before Carnival
        (date(2026, 1, 2), date(2025, 12, 31)),  # over New Year, into the year before
    ],
)
def test_previous_business_day_is_strictly_before(day: date, expected: date) -> None:
    assert previous_business_day(day) == expected


@given(DAYS)
@PROPERTY
def test_previous_business_day_undoes_next_business_day(day: date) -> None:
    before = previous_business_day(day)
    assert is_business_day(before) and before < day
    assert next_business_day(before) >= day


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 3, 2), 0, date(2026, 3, 2)),
        (date(2026, 3, 2), 1, date(2026, 3, 3)),
        (date(2026, 3, 2), 7, date(2026, 3, 11)),
        (date(2026, 2, 13), 7, date(2026, 2, 26)),  # Carnival does not count
        (date(2026, 2, 28), 0, date(2026, 3, 2)),  # Saturday counts as Monday
        (date(2026, 2, 28), 1, date(2026, 3, 3)),
        (date(2026, 4, 4), 1, date(2026, 4, 7)),
        (date(2025, 12, 30), 3, date(2026, 1, 5)),
    ],
)
def test_add_business_days_counts_from_the_next_business_day(
    day: date, n: int, expected: date
) -> None:
    assert add_business_days(day, n) == expected


def test_add_business_days_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError):
        add_business_days(date(2026, 3, 2), -1)


@given(DAYS, st.integers(0, 40))
@PROPERTY
def test_add_business_days_ends_on_the_nth_business_day_after_a_business_start(
    day: date, n: int
) -> None:
    start = day if is_business_day(day) else next_business_day(day)
    end = add_business_days(day, n)
    assert is_business_day(end)
    between = (start + timedelta(days=k) for k in range(1, (end - start).days + 1))
    assert sum(1 for d in between if is_business_day(d)) == n


@given(DAYS)
@PROPERTY
def test_next_business_day_skips_only_non_business_days(day: date) -> None:
    following = next_business_day(day)
    assert is_business_day(following)
    skipped = [day + timedelta(days=i) for i in range(1, (following - day).days)]
    assert not any(is_business_day(d) for d in skipped)
