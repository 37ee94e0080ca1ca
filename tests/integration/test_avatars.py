"""GET /avatars/qr (API.md §4.7): a real PNG of exactly size x size pixels that scanners read back,
validated like every other route, needing no session; and how the local gateway hands it over."""

from __future__ import annotations

import base64
import io

import pytest
import segno
import zxingcpp
from PIL import Image

from authcore.services import avatars
from local import template
from local.gateway import Gateway, accepts_binary
from tests.conftest import FUNCTIONS, TEMPLATE

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
URI = "otpauth://totp/My%20App:ada%2B1%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=My%20App"
# 512 characters from several scripts (all in the BMP, so "characters" means the same to every client).
UNICODE = ("Zürich ✓ 日本語 Ωμέγα Привет עברית 한국어 " * 20)[:512]


def qr(api, **query: str):
    return api("get_qr", query=query)


def image_of(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def decoded(png: bytes) -> list[str]:
    """The QR codes a scanner finds (only QR: a dense symbol can also look like a stray 1D barcode)."""
    return [result.text for result in zxingcpp.read_barcodes(image_of(png), formats=zxingcpp.BarcodeFormat.QRCode)]


def dark(image: Image.Image, x: int, y: int) -> bool:
    return image.convert("L").getpixel((x, y)) < 128


def white_rows_on_top(png: bytes) -> int:
    image = image_of(png).convert("L")
    width, height = image.size
    for y in range(height):
        if any(image.getpixel((x, y)) < 128 for x in range(width)):
            return y
    return height


def white_columns_on_left(png: bytes) -> int:
    image = image_of(png).convert("L")
    width, height = image.size
    for x in range(width):
        if any(image.getpixel((x, y)) < 128 for y in range(height)):
            return x
    return width


def assert_invalid_argument(answer, param: str | None = None) -> None:
    assert answer.status == 400, answer.body
    assert answer.header("Content-Type") == "application/json"
    assert set(answer.body) == {"message", "code", "type", "version"}
    assert (answer.body["code"], answer.body["type"]) == (400, "general_argument_invalid")
    if param:
        assert f"`{param}`" in answer.body["message"] or f'"{param}"' in answer.body["message"], answer.body


# --- the image -----------------------------------------------------------------------------------


def test_the_sample_request_gets_a_png(api, dynamo_calls):
    answer = api("get_qr")  # events/get_qr.json: a browser's <img> request, no session
    assert answer.status == 200, answer.body
    assert answer.header("Content-Type") == "image/png"
    assert isinstance(answer.body, bytes) and answer.body.startswith(PNG_SIGNATURE)
    assert image_of(answer.body).format == "PNG"
    assert image_of(answer.body).size == (400, 400)
    assert answer.header("Content-Disposition") is None  # download=false
    assert dynamo_calls.operations == []


@pytest.mark.parametrize("size", [1, 57, 400, 1000])
def test_the_png_is_exactly_size_by_size(api, size):
    answer = qr(api, text=URI, size=str(size))
    assert answer.status == 200, answer.body
    assert answer.body.startswith(PNG_SIGNATURE)
    assert image_of(answer.body).size == (size, size)


def test_the_defaults_are_400_pixels_and_no_download(api):
    answer = qr(api, text="hello")
    assert answer.status == 200, answer.body
    assert image_of(answer.body).size == (400, 400)
    assert answer.header("Content-Disposition") is None
    assert decoded(answer.body) == ["hello"]


def test_margin_zero_puts_the_symbol_at_the_corner(api):
    png = qr(api, text=URI, size="400", margin="0").body
    image = image_of(png)
    assert dark(image, 0, 0) and dark(image, 399, 0) and dark(image, 0, 399)  # three finder patterns
    assert white_rows_on_top(png) == 0 and white_columns_on_left(png) == 0


def test_a_larger_margin_gives_a_wider_white_border(api):
    borders = []
    for margin in ("1", "4", "10"):
        png = qr(api, text=URI, size="400", margin=margin).body
        assert image_of(png).size == (400, 400)
        top, left = white_rows_on_top(png), white_columns_on_left(png)
        assert top == left, margin  # a square quiet zone
        assert not dark(image_of(png), 0, 0)
        borders.append(top)
    assert 0 < borders[0] < borders[1] < borders[2]


def test_the_default_margin_is_one_module(api):
    assert qr(api, text=URI).body == qr(api, text=URI, margin="1").body
    assert white_rows_on_top(qr(api, text=URI, margin="0").body) == 0


@pytest.mark.parametrize("download", ["true", "1"])
def test_download_asks_the_browser_to_save_it(api, download):
    answer = qr(api, text="hello", download=download)
    assert answer.status == 200, answer.body
    assert answer.header("Content-Disposition") == 'attachment; filename="qr.png"'
    assert answer.header("Content-Type") == "image/png"


@pytest.mark.parametrize("download", ["false", "0"])
def test_no_download_no_content_disposition(api, download):
    answer = qr(api, text="hello", download=download)
    assert answer.status == 200, answer.body
    assert answer.header("Content-Disposition") is None


@pytest.mark.parametrize("size", ["400", "1000"])
def test_an_otpauth_uri_reads_back(api, size):
    answer = qr(api, text=URI, size=size)
    assert decoded(answer.body) == [URI]


def test_512_characters_of_unicode_read_back(api):
    assert len(UNICODE) == 512 and not UNICODE.isascii()
    answer = qr(api, text=UNICODE, size="1000")
    assert answer.status == 200, answer.body
    assert decoded(answer.body) == [UNICODE]


def modules_across(text: str, margin: int) -> int:
    """The symbol's width in modules, quiet zone included."""
    return len(segno.make(text, error="m", micro=False, encoding="utf-8").matrix) + 2 * margin


# Below about 2 pixels per module, nearest-neighbour scaling leaves modules too uneven for any scanner
# (whichever mask the symbol has); from 3 on, every size reads back. Every size for an otpauth URI, the
# code's real use with the default margin; every 5th or 9th size otherwise, to keep the test short.
@pytest.mark.parametrize(
    ("text", "margin", "step"), [(URI, 1, 1), (URI, 0, 5), (URI, 10, 5), (UNICODE, 1, 9), ("x" * 512, 10, 9)]
)
def test_every_size_from_three_pixels_a_module_reads_back(text, margin, step):
    smallest = 3 * modules_across(text, margin)
    unread = [
        size for size in (*range(smallest, 1000, step), 1000) if decoded(avatars.qr_png(text, size, margin)) != [text]
    ]
    assert unread == []


@pytest.mark.parametrize("text", ["Grüße aus Köln", "Ça va? Très bien.", "naïve façade"])
def test_latin_text_reads_back(api, text):
    assert decoded(qr(api, text=text).body) == [text]


@pytest.mark.parametrize("text", ["éé", "àè", "ææ", "é" * 512])
def test_accented_letters_alone_are_not_read_as_kanji(api, text):
    assert decoded(qr(api, text=text, size="1000").body) == [text]


def test_umlauts_alone_read_back(api):
    assert decoded(qr(api, text="ÄÖ").body) == ["ÄÖ"]


# --- validation ----------------------------------------------------------------------------------


def test_text_is_required(api):
    answer = qr(api, size="400")
    assert_invalid_argument(answer, "text")
    assert answer.body["message"] == 'Param "text" is not optional.'


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"text": ""}, "text"),
        ({"text": "x" * 513}, "text"),
        ({"text": "日" * 513}, "text"),
        ({"text": "hello", "size": "0"}, "size"),
        ({"text": "hello", "size": "1001"}, "size"),
        ({"text": "hello", "size": "x"}, "size"),
        ({"text": "hello", "size": "-5"}, "size"),
        ({"text": "hello", "margin": "-1"}, "margin"),
        ({"text": "hello", "margin": "11"}, "margin"),
        ({"text": "hello", "margin": "one"}, "margin"),
        ({"text": "hello", "download": "yes"}, "download"),
        ({"text": "hello", "download": ""}, "download"),
    ],
)
def test_invalid_parameters_are_400(api, query, param):
    assert_invalid_argument(qr(api, **query), param)


@pytest.mark.parametrize(("size", "margin"), [("1", "0"), ("1000", "10"), ("1", "10"), ("1000", "0")])
def test_the_bounds_are_accepted(api, size, margin):
    answer = qr(api, text="x" * 512, size=size, margin=margin)
    assert answer.status == 200, answer.body
    assert image_of(answer.body).size == (int(size), int(size))


def test_another_project_is_not_found(api):
    answer = qr(api, text="hello", project="someone-else")
    assert answer.status == 404
    assert answer.body["type"] == "project_not_found" and answer.body["code"] == 404


def test_this_project_or_none_is_served(api):
    assert qr(api, text="hello", project="default").status == 200
    assert qr(api, text="hello").status == 200


def test_no_session_is_needed_and_a_bad_one_is_ignored(api):
    answer = api("get_qr", headers={"X-Appwrite-Session": "not a credential"}, query={"text": "hello"})
    assert answer.status == 200, answer.body
    assert decoded(answer.body) == ["hello"]


# --- through the local gateway (API Gateway's binary rule) ----------------------------------------


BINARY = template.api(TEMPLATE).binary_media_types


def test_the_template_makes_every_type_binary():
    assert BINARY == ("*/*",)


@pytest.mark.parametrize(
    "accept",
    [
        "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",  # a browser's <img>
        "image/avif,image/*",
        "*/*",
        "image/png",
        "application/json",  # */* matches any first type
    ],
)
def test_any_accept_header_gets_bytes(accept):
    assert accepts_binary([("Accept", accept)], BINARY)
    assert accepts_binary({"accept": accept}, BINARY)


def test_no_accept_header_gets_base64_text():
    assert not accepts_binary([], BINARY)
    assert not accepts_binary([("User-Agent", "curl/8")], BINARY)


def test_only_the_first_accept_type_counts():
    assert accepts_binary([("Accept", "image/png, text/html")], ("image/*",))
    assert not accepts_binary([("Accept", "text/html, image/png")], ("image/*",))


@pytest.fixture
def gateway(aws_emulation) -> Gateway:
    return Gateway(list(FUNCTIONS.values()), template.api(TEMPLATE))


def test_the_gateway_sends_png_bytes_to_an_img(gateway):
    response = gateway.handle(
        "GET", "/v1/avatars/qr", [("Accept", "image/avif,image/*")], [("text", URI), ("size", "200")], b"", "127.0.0.1"
    )
    assert response.status == 200
    assert dict(response.headers)["Content-Type"] == "image/png"
    assert response.body.startswith(PNG_SIGNATURE)
    assert image_of(response.body).size == (200, 200)
    assert decoded(response.body) == [URI]


def test_the_gateway_sends_base64_text_without_an_accept_header(gateway):
    response = gateway.handle("GET", "/v1/avatars/qr", [], [("text", URI), ("size", "200")], b"", "127.0.0.1")
    assert response.status == 200
    assert not response.body.startswith(PNG_SIGNATURE)
    png = base64.b64decode(response.body, validate=True)
    assert png.startswith(PNG_SIGNATURE) and image_of(png).size == (200, 200)
