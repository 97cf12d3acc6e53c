"""The ledger rule of `services.rules.ledger`, vectorised over every beneficiary-month.

`compute_lines` takes plain frames (read by `services.billing.run`) and returns the
lines the invoices of month X must carry, for many companies at once, with the same
result as `services.rules.ledger.reference_lines` company by company (the property test
`tests/services/test_ledger_property.py` holds them equal). Everything is numpy
arithmetic on integer arrays: months as month indices (year * 12 + month - 1), dates as
YYYYMMDD integers, money as integer cents; there is no loop over beneficiaries (only
over the at most 16 months of the window, to pick each month's price tables).

Keys: a beneficiary-month is ``key = bid * span + (m - lo)`` with ``span`` the window's
length; a company is its position in the sorted array of companies billed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.rules.age_bands import AGE_BANDS, BAND_COUNT

NO_DATE = 99991231
_BAND_UPPERS = np.array([upper for _, upper in AGE_BANDS if upper is not None])
KINDS = ("monthly", "retroactive", "plan_change_difference", "credit", "stay")
LINE_FRAME_COLUMNS = ["company_id", "bid", "plan_id", "m", "band", "kind", "movement_id", "cents"]


@dataclass(frozen=True)
class LedgerInput:
    """What the run read, as frames of int64 columns.

    - companies: company_id, lo (first month index of its window), birthday_month (0/1):
      only the companies to bill.
    - periods: bid, company_id, plan_id, start, end (YYYYMMDD; end NO_DATE when open),
      stay (0/1), period_id, movement_id (0: none): every period of the beneficiaries
      concerned that overlaps the window, whatever its company.
    - births: bid, birth (YYYYMMDD).
    - charged: bid, company_id, m (month index), cents: lines of the companies to bill
      in the window, on invoices that are not cancelled.
    - tables: table_id, company_id, plan_id, single (0/1), valid_from, valid_to
      (YYYYMMDD, valid_to NO_DATE when open); bands: table_id, band, cents.
    - latest: given the (bid, company_id, m) that get a credit, their plan_id and band
      as on the latest line (greatest id) charged for them; read only for those.
    """

    x: int
    companies: pd.DataFrame
    periods: pd.DataFrame
    births: pd.DataFrame
    charged: pd.DataFrame
    tables: pd.DataFrame
    bands: pd.DataFrame
    latest: Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class LedgerOutput:
    lines: pd.DataFrame  # LINE_FRAME_COLUMNS, kind as text
    unpriced: pd.DataFrame  # company_id, plan_id, m: first month without a table per company


def _idx(ymd: np.ndarray) -> np.ndarray:
    return (ymd // 10000) * 12 + (ymd // 100 % 100) - 1


def _last_covered_month(end: np.ndarray) -> np.ndarray:
    """Month index of the day before ``end`` (end is the first day not covered)."""
    return _idx(end) - (end % 100 == 1)


def _expand(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, month) for every month in [first, last] of every row."""
    counts = np.clip(last - first + 1, 0, None)
    rows = np.repeat(np.arange(len(first)), counts)
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, first[rows] + offsets


@dataclass(frozen=True)
class Targets:
    """Covered beneficiary-months of the window, one row each (numpy arrays, same order):
    ``key`` (bid * span + m - lo, unique), ``m`` and ``src``, the row of the month's
    FIRST period (smallest start, then period id) in ``periods`` (arrays by column)."""

    key: np.ndarray
    m: np.ndarray
    src: np.ndarray
    periods: dict[str, np.ndarray]


def month_targets(periods: pd.DataFrame, lo: int, x: int) -> Targets:
    span = x - lo + 1
    p = periods.sort_values(["bid", "start", "period_id"], kind="stable")
    bid = p["bid"].to_numpy()
    first = np.maximum(_idx(p["start"].to_numpy()), lo)
    last = np.minimum(_last_covered_month(p["end"].to_numpy()), x)
    keep = first <= last
    cols = {
        c: p[c].to_numpy()[keep] for c in ("bid", "company_id", "plan_id", "stay", "movement_id")
    }
    bid, first, last = bid[keep], first[keep], last[keep]
    # beneficiaries with one period in the window need no de-duplication
    if len(bid):
        counts = np.unique(bid, return_counts=True)[1]  # bid is sorted
        many = np.repeat(counts > 1, counts)
    else:
        many = np.zeros(0, dtype=bool)
    parts = []
    for mask, dedupe in ((~many, False), (many, True)):
        rows, months = _expand(first[mask], last[mask])
        keys = bid[mask][rows] * span + (months - lo)
        if dedupe:
            # rows follow the periods' order: a key's first occurrence is its first period
            keys, at = np.unique(keys, return_index=True)
            rows, months = rows[at], months[at]
        parts.append((keys, np.flatnonzero(mask)[rows], months))
    return Targets(
        np.concatenate([k for k, _, _ in parts]),
        np.concatenate([m for _, _, m in parts]),
        np.concatenate([r for _, r, _ in parts]),
        cols,
    )


class KeyIndex:
    """Position of each key of ``keys`` (unique non-negative int64), -1 when absent: a
    dense table when the key space is small enough, else a sorted search."""

    DENSE_LIMIT = 400_000_000

    def __init__(self, keys: np.ndarray) -> None:
        size = int(keys.max()) + 1 if len(keys) else 0
        self.dense = size <= self.DENSE_LIMIT
        if self.dense:
            self.table = np.full(size, -1, dtype=np.int64)
            self.table[keys] = np.arange(len(keys))
        else:
            self.order = np.argsort(keys)
            self.sorted = keys[self.order]

    def find(self, wanted: np.ndarray) -> np.ndarray:
        if self.dense:
            inside = wanted < len(self.table)
            out = np.full(len(wanted), -1, dtype=np.int64)
            out[inside] = self.table[wanted[inside]]
            return out
        at = np.minimum(np.searchsorted(self.sorted, wanted), max(len(self.sorted) - 1, 0))
        hit = (self.sorted[at] == wanted) if len(self.sorted) else np.zeros(len(wanted), bool)
        return np.where(hit, self.order[at] if len(self.sorted) else -1, -1)


_MAX_AGE = 200
_BAND_OF_AGE = np.searchsorted(_BAND_UPPERS, np.arange(_MAX_AGE + 1), side="left") + 1


def age_bands(birth: np.ndarray, m: np.ndarray, birthday_month: np.ndarray) -> np.ndarray:
    """RN 63/2003 band of month ``m``: age on the last day of m-1 ("next_month") or of m
    ("birthday_month"); 29 February birthdays reach the age on 1 March in common years;
    before birth, age 0.

    The age on the last day of month index M is (M - birth month index) // 12: the
    birthday's month is over by then, except 29 February in a common year."""
    on = m - 1 + birthday_month
    age = (on - _idx(birth)) // 12
    leapling = np.flatnonzero(birth % 10000 == 229)
    if len(leapling):
        year = on[leapling] // 12
        common = (year % 4 != 0) | ((year % 100 == 0) & (year % 400 != 0))
        february = on[leapling] % 12 == 1
        age[leapling] -= (common & february).astype(np.int64)
    return _BAND_OF_AGE[np.clip(age, 0, _MAX_AGE)]


def price_grid(
    tables: pd.DataFrame, bands: pd.DataFrame, lo: int, x: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(contract keys, cents[contract, m - lo, band - 1], line band[...], plan modulus).

    A contract key is company_id * modulus + plan_id; cents is -1 where no table is
    valid on the month's first day; a single table fills every band with its band 1.
    """
    span = x - lo + 1
    modulus = int(tables["plan_id"].max()) + 1 if len(tables) else 1
    ckeys = np.unique(tables["company_id"].to_numpy() * modulus + tables["plan_id"].to_numpy())
    cents = np.full((len(ckeys), span, BAND_COUNT), -1, dtype=np.int64)
    line_band = np.tile(np.arange(1, BAND_COUNT + 1), (len(ckeys), span, 1))
    if not len(tables):
        return ckeys, cents, line_band, modulus
    t = tables.assign(ck=np.searchsorted(ckeys, tables["company_id"] * modulus + tables["plan_id"]))
    by_table = bands.merge(t[["table_id", "ck", "single"]], on="table_id")
    for m in range(lo, x + 1):
        day = (m // 12) * 10000 + (m % 12 + 1) * 100 + 1
        valid = t[(t["valid_from"] <= day) & (t["valid_to"] >= day)]
        chosen = valid.sort_values(["ck", "valid_from"]).drop_duplicates("ck", keep="last")
        rows = by_table[by_table["table_id"].isin(chosen["table_id"])]
        banded = rows[rows["single"] == 0]
        cents[banded["ck"].to_numpy(), m - lo, banded["band"].to_numpy() - 1] = banded["cents"]
        single = rows[(rows["single"] == 1) & (rows["band"] == 1)]
        cents[single["ck"].to_numpy(), m - lo, :] = single["cents"].to_numpy()[:, None]
        line_band[single["ck"].to_numpy(), m - lo, :] = 1
    return ckeys, cents, line_band, modulus


def _lookup(ids: np.ndarray, values: np.ndarray, wanted: np.ndarray, missing: int) -> np.ndarray:
    """values[i] for each wanted id == ids[i] (small non-negative ids), else ``missing``."""
    table = np.full(
        max(int(ids.max()) if len(ids) else 0, int(wanted.max()) if len(wanted) else 0) + 1,
        missing,
        dtype=np.int64,
    )
    table[ids] = values
    return table[wanted]


def compute_lines(data: LedgerInput) -> LedgerOutput:
    """The lines every company of ``data.companies`` must get on its invoice of X."""
    x, companies = data.x, data.companies.sort_values("company_id")
    if companies.empty:
        return _output([], pd.DataFrame(columns=["company_id", "plan_id", "m"], dtype="int64"))
    cindex = companies["company_id"].to_numpy()
    c_lo = companies["lo"].to_numpy()
    c_bday = companies["birthday_month"].to_numpy()
    lo = int(c_lo.min())
    span = x - lo + 1
    # Targets: covered months of a company to bill, inside its own window.
    t = month_targets(data.periods, lo, x)
    P = t.periods
    t_comp = _lookup(cindex, np.arange(len(cindex)), P["company_id"][t.src], -1)
    keep = (t_comp >= 0) & (t.m >= c_lo[np.maximum(t_comp, 0)])
    if keep.all():  # the usual case: no copies
        keys, src, m, comp = t.key, t.src, t.m, t_comp
    else:
        sel = np.flatnonzero(keep)
        keys, src, m, comp = t.key[sel], t.src[sel], t.m[sel], t_comp[sel]
    bid, company, plan = P["bid"][src], P["company_id"][src], P["plan_id"][src]
    # Prices: age band of the month, the contract's table of the month
    birth = _lookup(data.births["bid"].to_numpy(), data.births["birth"].to_numpy(), bid, 0)
    band = age_bands(birth, m, c_bday[comp])
    ckeys, grid, line_band, modulus = price_grid(data.tables, data.bands, lo, x)
    ck = KeyIndex(ckeys).find(company * modulus + plan)
    cell = (np.maximum(ck, 0) * span + (m - lo)) * BAND_COUNT + band - 1
    cents = np.where(ck >= 0, grid.reshape(-1)[cell] if len(ckeys) else -1, -1)
    lband = np.where(ck >= 0, line_band.reshape(-1)[cell] if len(ckeys) else band, band)
    bad = cents < 0
    unpriced = pd.DataFrame({"company_id": company[bad], "plan_id": plan[bad], "m": m[bad]})
    unpriced = unpriced.sort_values(["company_id", "m"]).drop_duplicates("company_id")
    # What each (beneficiary-month, company) was charged: lines of the month's company
    # are matched to their target, the others (charged but not covered there) credited.
    ch = data.charged
    ch_comp = _lookup(cindex, np.arange(len(cindex)), ch["company_id"].to_numpy(), -1)
    ch_m = ch["m"].to_numpy()
    ok = (ch_comp >= 0) & (ch_m >= c_lo[np.maximum(ch_comp, 0)])
    ch_key = ch["bid"].to_numpy() * span + (ch_m - lo)
    at = KeyIndex(keys).find(ch_key)
    hit = ok & (at >= 0)
    hit[hit] = comp[at[hit]] == ch_comp[hit]
    charged_now = np.zeros(len(keys), dtype=np.int64)
    np.add.at(charged_now, at[hit], ch["cents"].to_numpy()[hit])
    target = np.maximum(cents, 0)
    amount = target - charged_now
    due = np.flatnonzero(amount != 0)
    stay = P["stay"][src[due]]
    kind = np.select(
        [charged_now[due] == 0, target[due] == 0],
        [np.where(stay == 1, 4, np.where(m[due] == x, 0, 1)), 3],
        2,
    )
    lines = pd.DataFrame(
        {
            "company_id": company[due],
            "bid": bid[due],
            "plan_id": plan[due],
            "m": m[due],
            "band": lband[due],
            "kind": kind,
            "movement_id": P["movement_id"][src[due]],
            "cents": amount[due],
        }
    )
    rest = ok & ~hit
    credits = (
        pd.DataFrame(
            {
                "company_id": ch["company_id"].to_numpy()[rest],
                "bid": ch["bid"].to_numpy()[rest],
                "m": ch_m[rest],
                "cents": ch["cents"].to_numpy()[rest],
            }
        )
        .groupby(["company_id", "bid", "m"], as_index=False)["cents"]
        .sum()
    )
    credits = credits[credits["cents"] != 0].assign(kind=3, movement_id=0)
    credits["cents"] = -credits["cents"]
    if len(credits):
        details = data.latest(credits[["bid", "company_id", "m"]])
        credits = credits.merge(details, on=["bid", "company_id", "m"], how="left")
    return _output([lines, credits], unpriced)


def _output(frames: list[pd.DataFrame], unpriced: pd.DataFrame) -> LedgerOutput:
    kept = [f for f in frames if len(f)]
    if kept:
        lines = pd.concat(kept, ignore_index=True).astype("int64")
    else:
        lines = pd.DataFrame({c: pd.Series(dtype="int64") for c in LINE_FRAME_COLUMNS})
    lines["kind"] = np.asarray(KINDS, dtype=object)[lines["kind"].to_numpy()]
    return LedgerOutput(lines[LINE_FRAME_COLUMNS], unpriced.reset_index(drop=True))
