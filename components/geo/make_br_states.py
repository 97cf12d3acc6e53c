"""Rebuild br_states.json from the per-state GeoJSON files of geodata-br-states.

Not used by the portal at run time: it documents (and repeats) how the shipped file was
made. Usage, with a checkout of https://github.com/giuliano-macedo/geodata-br-states:

    python components/geo/make_br_states.py PATH/TO/geodata-br-states/geojson/br_states

Each state's outline is simplified with Ramer-Douglas-Peucker (tolerance 0.02 degree,
about 2 km), islands smaller than 0.005 square degree are dropped (the state's largest
polygon is always kept), and coordinates are rounded to 3 decimals (about 100 m): a
country-wide drawing, not a survey.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

TOLERANCE = 0.02
MIN_AREA = 0.005
DECIMALS = 3
OUT = Path(__file__).with_name("br_states.json")


def _distance(p: list[float], a: list[float], b: list[float]) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(x - x1, y - y1)
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (x1 + t * dx), y - (y1 + t * dy))


def simplify(points: list[list[float]], tolerance: float) -> list[list[float]]:
    """Ramer-Douglas-Peucker, iterative (rings have tens of thousands of points)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            d = _distance(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if index >= 0 and worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def area(ring: list[list[float]]) -> float:
    return (
        abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))) / 2
    )


def _ring(ring: list[list[float]]) -> list[list[float]] | None:
    # A closed ring's first and last points are equal: split it in two halves so that
    # the simplification has two distinct ends to anchor on.
    half = len(ring) // 2
    points = simplify(ring[: half + 1], TOLERANCE)[:-1] + simplify(ring[half:], TOLERANCE)
    points = [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in points]
    deduped = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    return deduped if len(deduped) >= 4 else None


def build(folder: Path) -> dict:
    features = []
    for path in sorted(folder.glob("br_*.json")):
        source = json.loads(path.read_text(encoding="utf-8"))["features"][0]
        polygons = source["geometry"]["coordinates"]
        largest = max(polygons, key=lambda poly: area(poly[0]))
        kept = []
        for poly in polygons:
            if poly is not largest and area(poly[0]) < MIN_AREA:
                continue
            rings = [r for r in (_ring(ring) for ring in poly) if r]
            if rings:
                kept.append(rings)
        props = source["properties"]
        features.append(
            {
                "type": "Feature",
                "id": props["SIGLA"],
                "properties": {"sigla": props["SIGLA"], "nome": props["Estado"]},
                "geometry": {"type": "MultiPolygon", "coordinates": kept},
            }
        )
    return {"type": "FeatureCollection", "features": features}


if __name__ == "__main__":
    collection = build(Path(sys.argv[1]))
    OUT.write_text(
        json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    points = sum(
        len(r) for f in collection["features"] for p in f["geometry"]["coordinates"] for r in p
    )
    print(
        f"{OUT}: {len(collection['features'])} states, {points} points, {OUT.stat().st_size} bytes"
    )
