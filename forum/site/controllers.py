"""Routes: the public site document and the Markdown preview."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK

from forum.auth import Viewer, requires_active_if_signed_in
from forum.publiccache import public_json
from forum.site import services
from forum.site.schemas import Preview, PreviewRequest, SiteInfo

IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", max_length=1000)]
SITE_MAX_AGE_S = 60


class SiteController(Controller):
    path = "/api"
    tags = ("site",)

    @get("/site", operation_id="get_site", cache=False)
    async def get_site(self, request: Request[Any, Any, Any],
                       if_none_match: IfNoneMatch = None) -> Response[SiteInfo]:
        """What a client shows and checks before writing: limits, the edit window, flag reasons, the support text."""
        site = msgspec.convert(await services.site_info(request.app.state.settings), SiteInfo)
        return public_json(site, max_age_s=SITE_MAX_AGE_S, if_none_match=if_none_match)

    @post("/preview", operation_id="preview_markdown", status_code=HTTP_200_OK,
          guards=[requires_active_if_signed_in])
    async def preview_markdown(self, viewer: NamedDependency[Viewer | None], client_ip: NamedDependency[str],
                               data: JSONBody[PreviewRequest]) -> Preview:
        """Markdown rendered and sanitized as a post would be; stores nothing; rate-limited."""
        return Preview(await services.preview(data.body, viewer, client_ip))


ROUTES: list[Any] = [SiteController]
