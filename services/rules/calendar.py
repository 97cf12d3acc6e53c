"""National holidays and business-day arithmetic.

Sources:
- Fixed national holidays: Lei 662/1949 (Jan 1, May 1, Sep 7, Nov 15, Dec 25),
  Lei 10.607/2002 (adds Apr 21 Tiradentes and Nov 2 Finados to it),
  Lei 6.802/1980 (Oct 12, Nossa Senhora Aparecida), Lei 14.759/2023 (Nov 20,
  Dia Nacional de Zumbi e da Consciência Negra, from 2024 on).
- Good Friday: Lei 9.093/1995 (religious holiday, observed nationally).
- Carnival Monday and Tuesday and Corpus Christi are only "ponto facultativo"
  (yearly federal Portaria), but banks do not open on them (FEBRABAN's bank
  calendar), so they count as non-business days for deadlines and payments.
- Easter: anonymous Gregorian algorithm (Meeus/Jones/Butcher).

Conventions used by every function here:
- A business day is a Monday-to-Friday date that is not in ``holidays``;
  ``holidays=None`` means the national holidays of each date's own year.
- ``add_business_days(d, n)``: a request made on a non-business day counts as
  made on the next business day; the result is the n-th business day after
  that day (n=0 gives that day itself).
- ``previous_business_day(d)`` is the last business day strictly before ``d``.

Explained in docs/domain/protocols-and-deadlines.md, "Business days".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from functools import lru_cache

_FIXED_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "Confraternização Universal"),
    (4, 21, "Tiradentes"),
    (5, 1, "Dia do Trabalho"),
    (9, 7, "Independência do Brasil"),
    (10, 12, "Nossa Senhora Aparecida"),
    (11, 2, "Finados"),
    (11, 15, "Proclamação da República"),
    (12, 25, "Natal"),
)
_BLACK_CONSCIOUSNESS_FROM = 2024


def easter_sunday(year: int) -> date:
    """Easter Sunday of ``year`` (Gregorian calendar, anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def national_holidays(year: int) -> dict[date, str]:
    """National holidays of ``year`` (and bank-closing Carnival), date -> Portuguese name."""
    holidays = {date(year, month, day): name for month, day, name in _FIXED_HOLIDAYS}
    if year >= _BLACK_CONSCIOUSNESS_FROM:
        holidays[date(year, 11, 20)] = "Dia Nacional de Zumbi e da Consciência Negra"
    easter = easter_sunday(year)
    holidays[easter - timedelta(days=48)] = "Carnaval (segunda-feira)"
    holidays[easter - timedelta(days=47)] = "Carnaval (terça-feira)"
    holidays[easter - timedelta(days=2)] = "Sexta-feira Santa"
    holidays[easter + timedelta(days=60)] = "Corpus Christi"
    return dict(sorted(holidays.items()))


@lru_cache(maxsize=64)
def _national_holiday_set(year: int) -> frozenset[date]:
    return frozenset(national_holidays(year))


def is_business_day(d: date, holidays: Collection[date] | None = None) -> bool:
    """Monday to Friday and not a holiday (default: the national holidays of ``d.year``)."""
    if d.weekday() >= 5:
        return False
    if holidays is None:
        holidays = _national_holiday_set(d.year)
    return d not in holidays


def next_business_day(d: date, holidays: Collection[date] | None = None) -> date:
    """The first business day strictly after ``d``."""
    day = d + timedelta(days=1)
    while not is_business_day(day, holidays):
        day += timedelta(days=1)
    return day


def previous_business_day(d: date, holidays: Collection[date] | None = None) -> date:
    """The last business day strictly before ``d``."""
    day = d - timedelta(days=1)
    while not is_business_day(day, holidays):
        day -= timedelta(days=1)
    return day


def add_business_days(d: date, n: int, holidays: Collection[date] | None = None) -> date:
    """The n-th business day after ``d`` (``d`` moved to the next business day if it is not one)."""
    if n < 0:
        raise ValueError("O número de dias úteis deve ser zero ou positivo.")
    day = d if is_business_day(d, holidays) else next_business_day(d, holidays)
    for _ in range(n):
        day = next_business_day(day, holidays)
    return day
