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


def month_targets(periods: pd.DataFrame, lo: int, x: int) -> pd.DataFrame:
    """One row per covered beneficiary-month of [lo, x]: the month's FIRST period
    (smallest start, then period id): key, bid, m, company_id, plan_id, stay, movement_id.
    Sorted by key."""
    span = x - lo + 1
    p = periods.sort_values(["bid", "start", "period_id"], kind="stable")
    bid = p["bid"].to_numpy()
    first = np.maximum(_idx(p["start"].to_numpy()), lo)
    last = np.minimum(_last_covered_month(p["end"].to_numpy()), x)
    keep = first <= last
    bid, first, last = bid[keep], first[keep], last[keep]
    cols = {c: p[c].to_numpy()[keep] for c in ("company_id", "plan_id", "stay", "movement_id")}
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
    keys = np.concatenate([k for k, _, _ in parts])
    src = np.concatenate([s for _, s, _ in parts])
    months = np.concatenate([m for _, _, m in parts])
    order = np.argsort(keys, kind="stable")  # two sorted runs: a merge
    src = src[order]
    return pd.DataFrame(
        {
            "key": keys[order],
            "bid": bid[src],
            "m": months[order],
            **{c: v[src] for c, v in cols.items()},
        }
    )


def age_bands(birth: np.ndarray, m: np.ndarray, birthday_month: np.ndarray) -> np.ndarray:
    """RN 63/2003 band of month ``m``: age on the last day of m-1 ("next_month") or of m
    ("birthday_month"); 29 February birthdays reach the age on 1 March in common years;
    before birth, age 0."""
    on = m - 1 + birthday_month
    year, month = on // 12, on % 12 + 1
    by, bm, bd = birth // 10000, birth // 100 % 100, birth % 100
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    before = (month < bm) | ((month == bm) & (bm == 2) & (bd == 29) & ~leap)
    age = np.clip(year - by - before.astype(np.int64), 0, None)
    return np.searchsorted(_BAND_UPPERS, age, side="left") + 1


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


def _charged_groups(
    charged: pd.DataFrame, lo: int, span: int, cindex: np.ndarray
) -> dict[str, np.ndarray]:
    """Net cents per (beneficiary-month, company), sorted by (key, company)."""
    key = charged["bid"].to_numpy() * span + (charged["m"].to_numpy() - lo)
    comp = np.searchsorted(cindex, charged["company_id"].to_numpy())
    order = np.argsort(key * len(cindex) + comp, kind="stable")
    key, comp = key[order], comp[order]
    if not len(key):
        empty = np.zeros(0, dtype=np.int64)
        return {"key": empty, "comp": empty, "net": empty}
    starts = np.flatnonzero(np.r_[True, (np.diff(key) != 0) | (np.diff(comp) != 0)])
    return {
        "key": key[starts],
        "comp": comp[starts],
        "net": np.add.reduceat(charged["cents"].to_numpy()[order], starts),
    }


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
    comp = np.searchsorted(cindex, t["company_id"].to_numpy())
    comp = np.where(cindex[np.minimum(comp, len(cindex) - 1)] == t["company_id"], comp, -1)
    t["comp"] = comp
    own = comp >= 0
    mine = t[own & (t["m"].to_numpy() >= c_lo[np.maximum(comp, 0)])]
    # Prices
    births = np.zeros(int(data.births["bid"].max()) + 1 if len(data.births) else 1, np.int64)
    births[data.births["bid"].to_numpy()] = data.births["birth"].to_numpy()
    birth = births[mine["bid"].to_numpy()]
    band = age_bands(birth, mine["m"].to_numpy(), c_bday[mine["comp"].to_numpy()])
    ckeys, grid, line_band, modulus = price_grid(data.tables, data.bands, lo, x)
    ck = mine["company_id"].to_numpy() * modulus + mine["plan_id"].to_numpy()
    pos = np.minimum(np.searchsorted(ckeys, ck), max(len(ckeys) - 1, 0))
    has_contract = (ckeys[pos] == ck) if len(ckeys) else np.zeros(len(ck), dtype=bool)
    mi = mine["m"].to_numpy() - lo
    cents = np.where(has_contract, grid[pos, mi, band - 1] if len(ckeys) else -1, -1)
    lband = line_band[pos, mi, band - 1] if len(ckeys) else band
    unpriced = mine[cents < 0][["company_id", "plan_id", "m"]]
    unpriced = unpriced.sort_values(["company_id", "m"]).drop_duplicates("company_id")
    # What each (beneficiary-month, company) was charged; matched to its target
    charged = data.charged[data.charged["company_id"].isin(cindex)]
    g = _charged_groups(charged, lo, span, cindex)
    g_ok = g["key"] % span + lo >= c_lo[g["comp"]]
    tkeys = t["key"].to_numpy()
    at = np.minimum(np.searchsorted(tkeys, g["key"]), max(len(tkeys) - 1, 0))
    matched = (
        (tkeys[at] == g["key"]) & (t["comp"].to_numpy()[at] == g["comp"])
        if len(tkeys)
        else np.zeros(len(g["key"]), dtype=bool)
    )
    # rows of ``mine`` by their position in t: mine keeps t's index
    already = pd.Series(0, index=t.index, dtype=np.int64)
    already.iloc[at[matched & g_ok]] = g["net"][matched & g_ok]
    charged_now = already.reindex(mine.index).to_numpy()
    target = np.maximum(cents, 0)
    amount = target - charged_now
    kind = np.select(
        [charged_now == 0, target == 0],
        [np.where(mine["stay"].to_numpy() == 1, 4, np.where(mine["m"].to_numpy() == x, 0, 1)), 3],
        2,
    )
    due = amount != 0
    lines = pd.DataFrame(
        {
            "company_id": mine["company_id"].to_numpy()[due],
            "bid": mine["bid"].to_numpy()[due],
            "plan_id": mine["plan_id"].to_numpy()[due],
            "m": mine["m"].to_numpy()[due],
            "band": lband[due],
            "kind": kind[due],
            "movement_id": mine["movement_id"].to_numpy()[due],
            "cents": amount[due],
        }
    )
    credit = ~matched & g_ok & (g["net"] != 0)
    credits = pd.DataFrame(
        {
            "company_id": cindex[g["comp"][credit]],
            "bid": g["key"][credit] // span,
            "m": g["key"][credit] % span + lo,
            "kind": 3,
            "movement_id": 0,
            "cents": -g["net"][credit],
        }
    )
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
