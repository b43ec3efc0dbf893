"""The pure store rules: configuration, copy targets, progress lists, download order."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.errors import Conflict, Invalid
from chalicelib.domain.image import Image, Location, Status
from chalicelib.domain.stores import (FAILED_PROPERTY, IMPORTING_PROPERTY, Store,
                                      StoreSelection, copy_targets, download_order,
                                      parse_selection, parse_stores, store_for_url,
                                      with_progress)

STORES = (Store("hot", "images", "Hot", default=True, weight=50),
          Store("cold", "cold", "Cold", weight=10), Store("far", "far", "Far", region="eu-west-1"))


def _image(*stores: str, **properties: str) -> Image:
    return Image(id="i", owner="p", created_at="t", updated_at="t", status=Status.ACTIVE,
                 properties=properties,
                 locations=tuple(Location(id=s, store=s, key=f"images/i/{s}") for s in stores))


def test_without_configuration_the_image_bucket_is_the_one_default_store():
    [store] = parse_stores(None, "images")
    assert (store.id, store.bucket, store.default) == ("default", "images", True)


@pytest.mark.parametrize("config", [
    [], {"id": "x"}, [{"id": "a", "bucket": "b"}],  # no default
    [{"id": "a", "default": True}, {"id": "a", "bucket": "c"}],  # id twice
    [{"id": "a", "default": True, "bucket": "other"}],  # default not the image bucket
    [{"id": "a", "default": True}, {"id": "b"}],  # no bucket
    [{"id": "a", "default": True, "weight": "heavy"}],
    # http stores: an http(s) URL ending in /, never the default, never a bucket
    [{"id": "a", "default": True}, {"id": "w", "url": "ftp://m/"}],
    [{"id": "a", "default": True}, {"id": "w", "url": "http://m/images"}],
    [{"id": "w", "url": "http://m/", "default": True}],
    [{"id": "a", "default": True}, {"id": "w", "url": "http://m/", "bucket": "b"}],
])
def test_bad_store_configuration_stops_the_deployment(config):
    with pytest.raises(ValueError):
        parse_stores(json.dumps(config), "images")


def test_store_configuration_fills_the_default_bucket_and_descriptions():
    hot, far = parse_stores(json.dumps([{"id": "hot", "default": True, "weight": 3},
                                        {"id": "far", "bucket": "f", "region": "eu-west-1"}]),
                            "images")
    assert (hot.bucket, hot.weight, far.region, far.description) == (
        "images", 3, "eu-west-1", "Image store far.")


def test_an_http_store_is_read_only_and_holds_the_urls_under_its_own():
    _, web = parse_stores(json.dumps([{"id": "hot", "default": True},
                                      {"id": "web", "url": "https://m.example/img/"}]), "images")
    assert (web.read_only, web.bucket, web.description) == (
        True, "", "Read-only http store web.")
    assert store_for_url("https://m.example/img/a.raw", (web,)) is web
    for url in ("https://m.example/other/a.raw", "https://m.example/img", "http://x/"):
        assert store_for_url(url, (web,)) is None
    stores = (*STORES, web)
    assert copy_targets(_image("hot"), StoreSelection(all_stores=True), stores) == ("cold", "far")
    with pytest.raises(Conflict):
        copy_targets(_image("hot"), StoreSelection(("web",)), stores)


def test_selection_types_are_checked_as_glance_does():
    assert parse_selection({"stores": ["a", "a", "b"]}) == StoreSelection(("a", "b"))
    for body in ({"all_stores": 1}, {"all_stores_must_succeed": None}, {"stores": [1]},
                 {"stores": ["a"], "all_stores": True}):
        with pytest.raises(Invalid):
            parse_selection(body)


def test_copy_targets():
    image = _image("hot")
    assert copy_targets(image, StoreSelection(all_stores=True), STORES) == ("cold", "far")
    assert copy_targets(image, StoreSelection(("far", "cold")), STORES) == ("far", "cold")
    assert copy_targets(_image("hot", "cold", "far"), StoreSelection(all_stores=True),
                        STORES) == ()
    with pytest.raises(Invalid):
        copy_targets(image, StoreSelection(("hot",)), STORES)
    with pytest.raises(Conflict):
        copy_targets(image, StoreSelection(("nowhere",)), STORES)
    with pytest.raises(Conflict):
        copy_targets(_image("hot", **{IMPORTING_PROPERTY: "cold"}), StoreSelection(("cold",)),
                     STORES)


def test_progress_lists_merge_like_glances():
    image = with_progress(_image("hot", **{FAILED_PROPERTY: "cold,far"}),
                          importing=["cold"], retried=["cold"])
    assert image.properties[IMPORTING_PROPERTY] == "cold"
    assert image.properties[FAILED_PROPERTY] == "far"
    image = with_progress(image, failed=["cold"])
    assert image.properties[IMPORTING_PROPERTY] == ""
    assert image.properties[FAILED_PROPERTY] == "cold,far"


def test_download_order_prefer_then_weight_then_configuration():
    locations = _image("far", "cold", "hot").locations
    assert [loc.store for loc in download_order(locations, STORES)] == ["hot", "cold", "far"]
    assert [loc.store for loc in download_order(locations, STORES, ["far", "x"])] == [
        "far", "hot", "cold"]
