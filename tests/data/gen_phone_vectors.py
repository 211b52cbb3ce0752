#!/usr/bin/env python3
"""Generate phone conformance vectors from Google's libphonenumber (Python port).

Usage: pip install phonenumbers==9.0.42 && python3 tests/data/gen_phone_vectors.py > tests/data/phone_vectors.tsv

The version is pinned to the metadata version rlibphonenumber embeds (v9.0.42),
so the two libraries judge numbers by the same numbering plans.

Output: a header, then one vector per line, tab-separated:
    input  default_region  e164 (or ERR when parsing fails)  valid (1/0)
Vectors: libphonenumber's example numbers for every region and number type in
national, international, E.164 and RFC 3966 formats, variants of them that are
invalid (a digit dropped or added), and a seeded set of Russian numbers in the
formats Russian retailers collect (8 (9xx) …, +7 …, 7…, bare 10 digits,
St Petersburg 812, Moscow 495/499, toll-free 800, extensions).
"""
import random
import sys

import phonenumbers
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

TYPES = [T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.SHARED_COST,
         T.VOIP, T.PERSONAL_NUMBER, T.PAGER, T.UAN, T.VOICEMAIL]


def vector(raw, region):
    try:
        n = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return (raw, region, "ERR", "0")
    e164 = phonenumbers.format_number(n, F.E164)
    return (raw, region, e164, "1" if phonenumbers.is_valid_number(n) else "0")


def main():
    assert phonenumbers.__version__ == "9.0.42", phonenumbers.__version__
    rng = random.Random(20261124)
    out = []
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    for region in regions:
        for t in TYPES:
            ex = phonenumbers.example_number_for_type(region, t)
            if ex is None:
                continue
            for fmt in (F.NATIONAL, F.INTERNATIONAL, F.E164, F.RFC3966):
                out.append(vector(phonenumbers.format_number(ex, fmt), region))
            nat = phonenumbers.format_number(ex, F.E164)
            out.append(vector(nat[:-1], region))          # one digit short
            out.append(vector(nat + str(rng.randrange(10)), region))  # one digit long
    # Russian formats, Russian-heavy.
    prefixes = ["9%02d" % i for i in range(100)] + ["812", "495", "499", "800", "843", "383", "343", "861", "700", "701", "747"]
    formats = [
        "8 ({p}) {a}-{b}-{c}", "+7 ({p}) {a}-{b}-{c}", "+7{p}{a}{b}{c}", "7{p}{a}{b}{c}",
        "8{p}{a}{b}{c}", "{p}{a}{b}{c}", "8-{p}-{a}-{b}-{c}", "+7 {p} {a} {b} {c}",
        "8 {p} {a}{b}{c}", "({p}) {a}-{b}-{c}", "+7 ({p}) {a}-{b}-{c} доб. 12",
        "8 ({p}) {a}-{b}-{c} ext 7", "+7.{p}.{a}.{b}.{c}", "007 {p} {a}{b}{c}", "810 7 {p} {a}{b}{c}",
    ]
    for _ in range(1500):
        p = rng.choice(prefixes)
        a, b, c = "%03d" % rng.randrange(1000), "%02d" % rng.randrange(100), "%02d" % rng.randrange(100)
        raw = rng.choice(formats).format(p=p, a=a, b=b, c=c)
        out.append(vector(raw, rng.choice(["RU", "RU", "RU", "KZ", "BY", "DE"])))
    w = sys.stdout
    w.write("input\tregion\te164\tvalid\n")
    for row in out:
        w.write("\t".join(row) + "\n")
    print(f"{len(out)} vectors, {len(regions)} regions", file=sys.stderr)


if __name__ == "__main__":
    main()
