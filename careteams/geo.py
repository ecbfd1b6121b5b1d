"""Places from postcodes: people, teams and vacancies give a postcode, never coordinates.

One small interface, `lookup(postcode) -> Place | None`, with two implementations chosen by
the GEOCODER setting (config/):

- `FixedTable` ("fixed": development, testing and the demo): a fixed dict of the demo's
  postcodes and a few for tests. It never touches the network.
- `PostcodesIo` ("postcodes.io": production): https://api.postcodes.io/postcodes/<postcode>
  with a short timeout, behind a cache in the database (table postcode_place), shared by
  every web worker and the clock and kept across restarts.

`lookup` answers None for a postcode that does not exist, and raises GeocoderError when it
cannot answer now (timeout, network, server error). `locate` turns the two into what a save
does: refuse a postcode that does not exist (a field error), keep one it could not look up
yet (pending: a clock job retries it, careteams/matching/jobs.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from careteams.db import utcnow
from careteams.errors import ValidationError
from careteams.extensions import db
from careteams.validation import fields

log = logging.getLogger(__name__)

POSTCODE_MESSAGE = "Enter a UK postcode like HX7 8AB"
NOT_FOUND_MESSAGE = "We could not find that postcode. Check it and try again."
# The well-known shape of a UK postcode: an outward code (area, district) and an inward
# code (sector digit, unit letters), as in the Royal Mail's format (GIR 0AA aside).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def normalise_postcode(text: str | None) -> str | None:
    """'hx78ab' -> 'HX7 8AB'; None for anything that is not shaped like a UK postcode."""
    compact = re.sub(r"\s+", "", text or "").upper()
    found = _POSTCODE.match(compact)
    return f"{found.group(1)} {found.group(2)}" if found else None


class PostcodeField(fields.String):
    """A UK postcode in a schema: loaded normalised ('HX7 8AB'), refused in plain words."""

    def _deserialize(self, value, attr, data, **kwargs):
        from marshmallow import ValidationError as SchemaError

        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            return None
        normal = normalise_postcode(text)
        if normal is None:
            raise SchemaError(POSTCODE_MESSAGE)
        return normal


def district_of(postcode: str) -> str:
    """The outward code ('HX7') of a normalised postcode: what workers see of a place."""
    return postcode.split(" ")[0]


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    district: str


class GeocoderError(Exception):
    """The geocoder could not answer now (timeout, network or server trouble): try again later."""


class Geocoder(Protocol):
    def lookup(self, postcode: str) -> Place | None: ...


# The demo's postcodes (its people, teams and vacancies) and a few for tests. The demo's are
# shaped like real postcodes in the districts the demo uses; the points are the demo's own.
DEMO_PLACES: dict[str, tuple[float, float]] = {
    # Teams (careteams/teams/demo.py) and Ann's home for the matching demo.
    "HD7 5AB": (53.6120, -1.9140), "HD9 7AB": (53.5790, -1.7860), "HD3 4AB": (53.6510, -1.8480),
    "HX7 8AB": (53.742, -2.014),
    # Workers (careteams/matching/demo.py).
    "HX7 8AD": (53.744, -2.012), "HX7 5AA": (53.728, -2.040), "HX7 6AB": (53.750, -1.990),
    "HX7 7AA": (53.720, -1.860), "HX7 8BA": (53.760, -2.030), "HX7 8AE": (53.746, -2.020),
    "HX7 5AB": (53.700, -1.950), "HX7 6AA": (53.790, -2.100),
    # Tests and factories.
    "HX7 7AB": (53.7, -1.9), "HD7 4AA": (53.61, -1.91), "LS1 1UR": (53.7965, -1.5478),
    "M1 1AE": (53.4808, -2.2426), "SW1A 1AA": (51.5010, -0.1416),
}


class FixedTable:
    """A fixed table of postcodes; an unknown postcode does not exist. Never the network.

    `down = True` makes it behave like a geocoder that cannot answer (tests of the retry)."""

    def __init__(self, places: dict[str, tuple[float, float]] | None = None):
        self.places = dict(DEMO_PLACES if places is None else places)
        self.down = False

    def lookup(self, postcode: str) -> Place | None:
        if self.down:
            raise GeocoderError("the fixed table is set to be down")
        point = self.places.get(postcode)
        return Place(point[0], point[1], district_of(postcode)) if point else None


def demo_place(postcode: str) -> dict:
    """A demo postcode with its point from the fixed table, as a save's data: the point is used
    as given, so seeding the demo never asks the configured geocoder (never the network)."""
    latitude, longitude = DEMO_PLACES[postcode]
    return {"postcode": postcode, "latitude": latitude, "longitude": longitude, "district": district_of(postcode)}


class PostcodePlace(db.Model):
    """The network geocoder's cache: a postcode's point as postcodes.io gave it (no person here)."""

    __tablename__ = "postcode_place"

    postcode: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    latitude: Mapped[float] = mapped_column(sa.Float)
    longitude: Mapped[float] = mapped_column(sa.Float)
    district: Mapped[str] = mapped_column(sa.String(4))
    looked_up_at: Mapped[datetime]


class PostcodesIo:
    """postcodes.io, with a timeout and the postcode_place cache.

    `session` is anything with requests' `get(url, timeout=...)`: a requests.Session in
    production, a fake in tests (no test reaches the network)."""

    def __init__(self, base_url: str = "https://api.postcodes.io", timeout: float = 3.0, session=None,
                 cache_days: int = 180):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cache_for = timedelta(days=cache_days)
        self._session = session

    @property
    def session(self):
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def lookup(self, postcode: str) -> Place | None:
        cached = db.session.get(PostcodePlace, postcode)
        if cached is not None and cached.looked_up_at > utcnow() - self.cache_for:
            return Place(cached.latitude, cached.longitude, cached.district)
        place = self._ask(postcode)
        if place is not None:
            self._remember(postcode, place)
        return place

    def _ask(self, postcode: str) -> Place | None:
        url = f"{self.base_url}/postcodes/{quote(postcode)}"
        try:
            response = self.session.get(url, timeout=self.timeout)
        except Exception as exc:  # timeouts, refused connections, DNS: all "not now"
            raise GeocoderError(f"postcodes.io did not answer: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise GeocoderError(f"postcodes.io answered {response.status_code}")
        try:
            result = response.json()["result"]
            latitude, longitude = result["latitude"], result["longitude"]
        except (ValueError, KeyError, TypeError) as exc:
            raise GeocoderError("postcodes.io answered something unexpected") from exc
        if latitude is None or longitude is None:
            return None  # a postcode with no point on the map (some overseas and PO box ones)
        return Place(float(latitude), float(longitude), result.get("outcode") or district_of(postcode))

    def _remember(self, postcode: str, place: Place) -> None:
        try:
            with db.session.begin_nested():
                db.session.merge(PostcodePlace(postcode=postcode, latitude=place.latitude,
                                               longitude=place.longitude, district=place.district,
                                               looked_up_at=utcnow()))
        except IntegrityError:  # another process cached it first: theirs will do
            pass


def make_geocoder(config: dict) -> Geocoder:
    kind = config.get("GEOCODER", "fixed")
    if kind == "fixed":
        return FixedTable()
    if kind == "postcodes.io":
        return PostcodesIo(config.get("POSTCODES_IO_URL", "https://api.postcodes.io"),
                           float(config.get("GEOCODER_TIMEOUT", 3.0)))
    raise RuntimeError(f"GEOCODER must be 'fixed' or 'postcodes.io', not {kind!r}")


def init_app(app: Flask) -> None:
    app.extensions["geocoder"] = make_geocoder(app.config)


def geocoder() -> Geocoder:
    """The app's configured geocoder."""
    return current_app.extensions["geocoder"]


def lookup(postcode: str) -> Place | None:
    """The place of a normalised postcode; None if it does not exist; GeocoderError if not now."""
    return geocoder().lookup(postcode)


@dataclass(frozen=True)
class Located:
    postcode: str
    place: Place | None  # None: the geocoder could not answer; keep the postcode and retry

    @property
    def pending(self) -> bool:
        return self.place is None


def locate(postcode: str, field: str = "postcode") -> Located:
    """What a save does with a postcode: refuse one that does not exist (422 on `field`);
    keep one the geocoder could not look up now, as pending (never fail the save)."""
    normal = normalise_postcode(postcode)
    if normal is None:
        raise ValidationError(details={"fields": {field: [POSTCODE_MESSAGE]}})
    try:
        place = lookup(normal)
    except GeocoderError as exc:
        log.warning("geocoder: could not look up a postcode now (%s); kept for the retry job", exc)
        return Located(normal, None)
    if place is None:
        raise ValidationError(details={"fields": {field: [NOT_FOUND_MESSAGE]}})
    return Located(normal, place)


def set_place(obj, postcode: str | None, latitude: float | None = None, longitude: float | None = None, *,
              field: str = "postcode") -> None:
    """Give `obj` (a worker profile, team or vacancy: postcode, latitude, longitude,
    geocode_pending) its place. A point sent by an integration is used as given; a postcode
    is looked up (an unchanged one already found is not); no postcode and no point: no place.
    Never fails because the geocoder is down: the point waits (geocode_pending)."""
    normal = normalise_postcode(postcode) if postcode else None
    if postcode and normal is None:
        raise ValidationError(details={"fields": {field: [POSTCODE_MESSAGE]}})
    if latitude is not None and longitude is not None:
        obj.postcode, obj.latitude, obj.longitude, obj.geocode_pending = normal, latitude, longitude, False
        return
    if normal is None:
        obj.postcode, obj.latitude, obj.longitude, obj.geocode_pending = None, None, None, False
        return
    if normal == obj.postcode and obj.latitude is not None:
        return  # the same postcode, already found: nothing to ask
    located = locate(normal, field)
    obj.postcode = located.postcode
    obj.geocode_pending = located.pending
    obj.latitude = located.place.latitude if located.place else None
    obj.longitude = located.place.longitude if located.place else None


def geocode_again(obj) -> bool:
    """The retry job's step for one pending row: True when its point is found. A postcode
    the geocoder now says does not exist stops waiting (the page asks to check it);
    GeocoderError leaves it pending."""
    place = lookup(obj.postcode)
    obj.geocode_pending = False
    if place is None:
        return False
    obj.latitude, obj.longitude = place.latitude, place.longitude
    return True
