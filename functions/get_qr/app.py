"""GET /avatars/qr: a QR code of `text` as a PNG (no session needed; loaded by an <img>)."""

from typing import Annotated, Literal

from authcore.http.app import create_app, doc, entrypoint
from authcore.http.router import Query, Response
from authcore.services import avatars

app = create_app()
PNG = "image/png"
RESPONSES = {**doc(200, None, 400), 200: {"description": "A PNG image", "content": {PNG: {}}}}


@app.get("/avatars/qr", responses=RESPONSES)
def get_qr(
    text: Annotated[str, Query(min_length=1, max_length=512)],
    size: Annotated[int, Query(ge=1, le=1000)] = 400,
    margin: Annotated[int, Query(ge=0, le=10)] = 1,
    download: Annotated[Literal["true", "false", "1", "0"], Query()] = "false",
):
    headers = {"Content-Disposition": 'attachment; filename="qr.png"'} if download in ("true", "1") else None
    return Response(200, PNG, avatars.qr_png(text, size, margin), headers=headers)


lambda_handler = entrypoint(app)
